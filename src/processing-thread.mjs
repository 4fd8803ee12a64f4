// Worker threads do not inherit the tsx loader that `node --import tsx` registered in
// the main thread, so the processing thread registers it before loading its code.
import { register } from 'tsx/esm/api';

register();
await import('./processing-thread.ts');
