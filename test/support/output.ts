/** what a test captured of this process's stdout and stderr */
export interface CapturedOutput {
  /** everything written to either stream since the capture began */
  text(): string;
  /** puts both streams' own write back */
  stop(): void;
}

/**
 * copies everything written to stdout and stderr (still written through) until stop(): for tests
 * that search the logs of a runtime started with `quiet: false`
 */
export const captureOutput = (): CapturedOutput => {
  const captured: string[] = [];
  const restore: Array<() => void> = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      captured.push(String(chunk));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => {
      stream.write = write;
    });
  }
  return {
    text: () => captured.join(''),
    stop: () => {
      for (const r of restore) r();
    },
  };
};
