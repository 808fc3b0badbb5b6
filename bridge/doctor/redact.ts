// The doctor's output is meant to be pasted into tickets and read with read-only tokens:
// rendered templates and error texts go through here so credentials never show, even where
// the text is not valid JSON (which is exactly when the doctor shows it).

import { REDACTED, isSecretName, redactUrl } from '../webhooks/redact.ts';

/** `"key": "value"` and `key=value` pairs whose key names a secret, and URL credentials, blanked. */
export function redactText(text: string): string {
  return text
    .replace(/https?:\/\/[^\s"'<>]+/g, (url) => redactUrl(url))
    .replace(/("([^"\\]*)"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\]\s]+)/g, (all, head: string, key: string) => (isSecretName(key) ? `${head}"${REDACTED}"` : all))
    .replace(/([?&\s]|^)([A-Za-z0-9_.-]+)=([^&\s"]*)/g, (all, sep: string, key: string) => (isSecretName(key) ? `${sep}${key}=${REDACTED}` : all));
}
