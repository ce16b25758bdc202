import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

it('the README demo routes through topic and fanout exchanges on memory://', async () => {
  const { stdout } = await run(process.execPath, ['--conditions=nori-src', '--import', 'tsx', 'examples/demo.ts'], { cwd: root });
  expect(stdout).toContain('nori demo on memory://');
  const section = (queue: string): string[] => {
    const lines = stdout.split('\n');
    const start = lines.findIndex((l) => l.startsWith(`${queue} received`));
    const out: string[] = [];
    for (let i = start + 1; i < lines.length && lines[i]?.startsWith('  - '); i++) out.push((lines[i] as string).slice(4));
    return out;
  };
  expect(section('demo.video')).toEqual(['a video  [demo.media video.mp4]', 'an HD video  [demo.media video.hd.mkv]']);
  expect(section('demo.audio')).toEqual(['a song  [demo.media audio.mp3]']);
  const alerts = ['disk almost full  [demo.alerts (no key)]', 'backup done  [demo.alerts (no key)]'];
  expect(section('demo.email')).toEqual(alerts);
  expect(section('demo.sms')).toEqual(alerts);
});
