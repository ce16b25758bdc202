/** A progress bar on stderr when it is a terminal; nothing otherwise (pipes and CI logs stay clean). */
export class Progress {
  readonly #total: number;
  readonly #tty = process.stderr.isTTY === true;
  #done = 0;

  constructor(total: number) {
    this.#total = Math.max(total, 1);
  }

  tick(label: string): void {
    this.#done++;
    if (!this.#tty) return;
    const width = 30;
    const filled = Math.round((this.#done / this.#total) * width);
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${this.#done}/${this.#total} ${label}`
        .slice(0, (process.stderr.columns ?? 80) - 1)
        .padEnd((process.stderr.columns ?? 80) - 1),
    );
  }

  end(): void {
    if (this.#tty) process.stderr.write('\r\x1b[K');
  }
}
