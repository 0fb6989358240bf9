/** Colour for the text report: only on a TTY, never with NO_COLOR (no-color.org) or TERM=dumb; see chooseStyle. */
export interface Style {
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

const COLOR: Style = {
  red: wrap(31, 39),
  yellow: wrap(33, 39),
  green: wrap(32, 39),
  cyan: wrap(36, 39),
  dim: wrap(2, 22),
  bold: wrap(1, 22),
};
const id = (s: string) => s;
export const PLAIN: Style = { red: id, yellow: id, green: id, cyan: id, dim: id, bold: id };

/** `--color`: `auto` decides from the stream and the environment. */
export type ColorMode = 'auto' | 'always' | 'never';

/**
 * `--color=always|never` decides; with `auto`, NO_COLOR (set, not empty) and TERM=dumb turn colour
 * off, FORCE_COLOR (set, not empty, not 0) turns it on, and otherwise colour goes to a terminal only.
 */
export function chooseStyle(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, mode: ColorMode = 'auto'): Style {
  if (mode !== 'auto') return mode === 'always' ? COLOR : PLAIN;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return PLAIN;
  if (env.TERM === 'dumb') return PLAIN;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return COLOR;
  return stream.isTTY ? COLOR : PLAIN;
}
