/**
 * A progress bar on stderr when it is a terminal; nothing otherwise (pipes and CI logs stay clean).
 * One line, `label [#####-----] done/total`: the bar narrows so the label fits the terminal whole,
 * and only a terminal narrower than the label shortens it (in the middle).
 */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

const MAX_BAR = 30;
const MIN_BAR = 10;

function elide(text: string, width: number): string {
  if (text.length <= width) return text;
  const keep = Math.max(width - 1, 0);
  return `${text.slice(0, Math.ceil(keep / 2))}…${text.slice(text.length - Math.floor(keep / 2))}`;
}

export class Progress {
  readonly #total: number;
  readonly #stream: ProgressStream;
  #done = 0;

  constructor(total: number, stream: ProgressStream = process.stderr) {
    this.#total = Math.max(total, 1);
    this.#stream = stream;
  }

  /** One more step done, now at `label`. */
  tick(label: string): void {
    this.update(this.#done + 1, label);
  }

  update(done: number, label: string): void {
    this.#done = done;
    if (this.#stream.isTTY !== true) return;
    const room = (this.#stream.columns ?? 80) - 1;
    const counter = `${done}/${this.#total}`;
    const bar = Math.max(MIN_BAR, Math.min(MAX_BAR, room - label.length - counter.length - 4));
    const text = elide(label, room - bar - counter.length - 4);
    const filled = Math.round((Math.min(done, this.#total) / this.#total) * bar);
    this.#stream.write(`\r${text} [${'#'.repeat(filled)}${'-'.repeat(bar - filled)}] ${counter}\x1b[K`);
  }

  end(): void {
    if (this.#stream.isTTY === true) this.#stream.write('\r\x1b[K');
  }
}
