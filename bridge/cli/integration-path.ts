// The troubleshooting commands (logs, history, test, replay) all name one integration, by ID
// and optionally its product, as `hookwire integrations` does.

/** `/v1/integrations/<id>`, or its product-scoped form. */
export function integrationPath(id: string, product?: string): string {
  const base = product ? `/v1/products/${encodeURIComponent(product)}/integrations` : '/v1/integrations';
  return `${base}/${encodeURIComponent(id)}`;
}

/** Colour only for a person at a terminal who has not asked for none (https://no-color.org). */
export function useColor(env: NodeJS.ProcessEnv): boolean {
  return Boolean(process.stdout.isTTY) && !env.NO_COLOR;
}
