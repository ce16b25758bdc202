// The app module `nori worker -A ./tasks-app.mjs` runs, as a user writes one.
import { App } from '@nori/tasks';
import options from './tasks-options.cjs';

export const app = new App(options);

app.task('check.add', (x, y) => x + y);
