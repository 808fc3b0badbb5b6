// Charts by uPlot (small, fast, canvas): a time series with one line or bar set per series,
// and a sparkline. The chart follows its container's width and is remade when the data changes.

import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface Series {
  label: string;
  /** One value per x. */
  values: (number | null)[];
  /** A CSS colour. */
  color: string;
}

export interface ChartProps {
  /** x values: seconds since the epoch. */
  x: number[];
  series: Series[];
  height?: number;
  /** Bars (daily counts) instead of lines. */
  bars?: boolean;
  /** What the chart shows, for screen readers (the numbers are in a table or text nearby). */
  label: string;
  /** Label the x axis in UTC (daily counts are UTC days), not the browser's time zone. */
  utc?: boolean;
}

const inUtc = (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');

const bars = uPlot.paths.bars!({ size: [0.7, 40] });

/** A chart that fills its container's width. */
export function TimeChart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const width = () => Math.max(200, el.clientWidth);
    const plot = new uPlot({
      width: width(),
      height: props.height ?? 220,
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, fill: props.bars ? s.color : undefined, width: props.bars ? 0 : 2, paths: props.bars ? bars : undefined, points: { show: false } }))],
      axes: [{ stroke: '#57606a', grid: { stroke: '#eaeef2' } }, { stroke: '#57606a', grid: { stroke: '#eaeef2' }, size: 50 }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      ...(props.utc ? { tzDate: inUtc } : {}),
    }, [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: props.height ?? 220 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.x, props.series, props.bars, props.height, props.utc]);
  return html`<figure class="chart" role="img" aria-label=${props.label} ref=${box}></figure>`;
}

/** A small line of values, no axes (a list's trend column). */
export function Sparkline(props: { values: number[]; color?: string; label: string; width?: number; height?: number }) {
  const box = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    const x = props.values.map((_, i) => i);
    const plot = new uPlot({
      width: props.width ?? 100,
      height: props.height ?? 28,
      series: [{}, { stroke: props.color ?? '#0b5cad', width: 1.5, points: { show: false } }],
      axes: [{ show: false }, { show: false }],
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      legend: { show: false },
      cursor: { show: false },
    }, [x, props.values], box.current!);
    return () => plot.destroy();
  }, [props.values, props.color]);
  return html`<span class="sparkline" role="img" aria-label=${props.label} ref=${box}></span>`;
}
