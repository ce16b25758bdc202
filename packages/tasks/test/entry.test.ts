/**
 * The root entry of @nori/tasks holds what users write (App, tasks, results, canvas, schedules,
 * errors, context): at most 45 runtime names and 70 with the types. Building blocks go behind
 * subpaths (protocol, backends, events, control).
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';
import * as root from '@nori/tasks';

const entry = fileURLToPath(new URL('../src/index.ts', import.meta.url));

function exportedNames(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    types: [],
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const symbol = source && checker.getSymbolAtLocation(source);
  if (!symbol) throw new Error(`no module symbol for ${file}`);
  return checker.getExportsOfModule(symbol).map((s) => s.name);
}

it('the root entry exports at most 45 runtime names and 70 names with types', () => {
  const values = Object.keys(root);
  const all = exportedNames(entry);
  expect(values.length).toBeLessThanOrEqual(45);
  expect(all.length).toBeLessThanOrEqual(70);
  expect(all).toEqual(expect.arrayContaining([...values, 'AppOptions', 'TaskContext', 'WorkerOptions', 'TaskRequest']));
  for (const building of ['parseTaskMessage', 'createBackend', 'RedisBackend', 'EventReceiver', 'Mailbox', 'RevokedSet', 'settlementFor']) {
    expect(all).not.toContain(building);
  }
});
