// Runs the load generator in its own process, so the hub's CPU and RSS are measured without it.
import { startLoad, type LoadOptions } from '../simulators/load-generator.js';

process.once('message', async (opts: Omit<LoadOptions, 'onProgress'>) => {
  const result = await startLoad({
    ...opts,
    onProgress: (p) => process.send?.({ progress: p }),
    progressEveryMs: 5000,
  });
  process.send?.({ result }, () => process.exit(0));
});
