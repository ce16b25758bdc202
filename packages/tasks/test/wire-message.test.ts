/**
 * The task message on its own, field by field: the headers and body nori writes (as_task_v2's,
 * Celery 5.2's shape and order, with every default None/0/False as Python writes it), and what a
 * received v2 or v1 message is read as — each fallback, each refusal and its text.
 */
import { describe, expect, it } from 'vitest';
import { InvalidTaskError } from '@nori/tasks';
import { parseTaskMessage, taskBody, taskHeaders, type Signature, type TaskCall } from '@nori/tasks/protocol';

const add: Signature = { task: 'proj.add', args: [1], kwargs: {}, options: {}, subtask_type: null, immutable: false, chord_size: null };
const mul: Signature = { ...add, task: 'proj.mul' };

const minimal: TaskCall = { id: 'id-1', name: 'proj.add', args: [1, 'a'], kwargs: { k: true }, origin: 'gen1@host', timezone: 'UTC' };

describe('taskHeaders', () => {
  it('writes every default as Celery 5.2 does, in as_task_v2 order', () => {
    const h = taskHeaders(minimal);
    expect(Object.keys(h)).toEqual([
      'lang',
      'task',
      'id',
      'shadow',
      'eta',
      'expires',
      'group',
      'group_index',
      'retries',
      'timelimit',
      'root_id',
      'parent_id',
      'argsrepr',
      'kwargsrepr',
      'origin',
      'ignore_result',
    ]);
    expect(h).toEqual({
      lang: 'py',
      task: 'proj.add',
      id: 'id-1',
      shadow: null,
      eta: null,
      expires: null,
      group: null,
      group_index: null,
      retries: 0,
      timelimit: [null, null],
      root_id: 'id-1',
      parent_id: null,
      argsrepr: "(1, 'a')",
      kwargsrepr: "{'k': True}",
      origin: 'gen1@host',
      ignore_result: false,
    });
  });

  it('writes what the call sets: ids of a chain step, its group place, times in the zone, limits in seconds', () => {
    const h = taskHeaders({
      ...minimal,
      shadow: 'alias',
      eta: new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678)),
      expires: new Date(Date.UTC(2030, 0, 3)),
      group: 'g-1',
      groupIndex: 0,
      retries: 3,
      timeLimit: 30_000,
      softTimeLimit: 10_500,
      rootId: 'root-1',
      parentId: 'parent-1',
      argsrepr: '(...)',
      kwargsrepr: '{...}',
      ignoreResult: true,
      timezone: 'Asia/Kolkata',
    });
    expect(h).toEqual({
      lang: 'py',
      task: 'proj.add',
      id: 'id-1',
      shadow: 'alias',
      eta: '2030-01-02T08:34:05.678000+05:30',
      expires: '2030-01-03T05:30:00.000000+05:30',
      group: 'g-1',
      group_index: 0,
      retries: 3,
      timelimit: [30, 10.5],
      root_id: 'root-1',
      parent_id: 'parent-1',
      argsrepr: '(...)',
      kwargsrepr: '{...}',
      origin: 'gen1@host',
      ignore_result: true,
    });
    expect(taskHeaders({ ...minimal, softTimeLimit: 2000 })['timelimit']).toEqual([null, 2]);
  });
});

describe('taskBody', () => {
  it('is [args, kwargs, embed] with every embed field null unless given', () => {
    expect(taskBody(minimal)).toEqual([[1, 'a'], { k: true }, { callbacks: null, errbacks: null, chain: null, chord: null }]);
    expect(taskBody({ ...minimal, embed: { callbacks: [add], errbacks: [mul], chain: [mul, add], chord: add } })[2]).toEqual({
      callbacks: [add],
      errbacks: [mul],
      chain: [mul, add],
      chord: add,
    });
    expect(taskBody({ ...minimal, embed: { chain: [mul] } })[2]).toEqual({ callbacks: null, errbacks: null, chain: [mul], chord: null });
  });
});

/** A message as Celery 5.2's as_task_v2 sends it (a chain's second step, in a group). */
const celeryHeaders = {
  lang: 'py',
  task: 'proj.add',
  id: 'c-2',
  shadow: 'alias',
  eta: '2030-01-01T05:30:00.250000+05:30',
  expires: '2030-01-02T00:00:00',
  group: 'g-1',
  group_index: 0,
  retries: 2,
  timelimit: [10, 2.5],
  root_id: 'c-1',
  parent_id: 'c-1',
  // argsrepr/kwargsrepr as a sender hiding its arguments sets them (apply_async's argsrepr=).
  argsrepr: "('<hidden>',)",
  kwargsrepr: "{'z': '***'}",
  origin: 'gen7@py',
  ignore_result: true,
};

describe('parseTaskMessage: protocol 2', () => {
  it('reads every header Celery 5.2 writes and the reply properties', () => {
    const r = parseTaskMessage(celeryHeaders, [[2], { z: 1 }, { callbacks: [add], errbacks: null, chain: [mul], chord: null }], {
      replyTo: 'reply-q',
      correlationId: 'c-2',
    });
    expect(r).toEqual({
      id: 'c-2',
      name: 'proj.add',
      args: [2],
      kwargs: { z: 1 },
      embed: { callbacks: [add], errbacks: null, chain: [mul], chord: null },
      retries: 2,
      eta: new Date('2030-01-01T00:00:00.250Z'),
      expires: new Date('2030-01-02T00:00:00Z'),
      rootId: 'c-1',
      parentId: 'c-1',
      group: 'g-1',
      groupIndex: 0,
      timeLimit: 10_000,
      softTimeLimit: 2500,
      origin: 'gen7@py',
      ignoreResult: true,
      replyTo: 'reply-q',
      correlationId: 'c-2',
      argsrepr: "('<hidden>',)",
      kwargsrepr: "{'z': '***'}",
      lang: 'py',
      shadow: 'alias',
      protocol: 2,
    });
  });

  it('falls back on what a sparse or odd sender leaves out', () => {
    const r = parseTaskMessage(
      { task: 'proj.add', id: 'x-1', root_id: '', parent_id: '', retries: 1.5, group_index: '0', lang: 'js', ignore_result: 'yes' },
      [[1, 'b'], { k: null }],
      {
        replyTo: '',
      },
    );
    expect(r).toMatchObject({
      id: 'x-1',
      rootId: 'x-1',
      parentId: null,
      group: null,
      groupIndex: null,
      retries: 0,
      eta: undefined,
      expires: undefined,
      timeLimit: undefined,
      softTimeLimit: undefined,
      origin: null,
      ignoreResult: false,
      replyTo: undefined,
      correlationId: undefined,
      argsrepr: "(1, 'b')",
      kwargsrepr: "{'k': None}",
      lang: 'js',
      shadow: null,
      protocol: 2,
    });
    expect(r.embed).toEqual({ callbacks: null, errbacks: null, chain: null, chord: null });
    expect(parseTaskMessage({ task: 't', id: 'y', lang: '' }, [[], {}], {}).lang).toBe('py');
  });

  it('reads time limits only as positive finite seconds, each on its own', () => {
    const limits = (timelimit: unknown) => {
      const r = parseTaskMessage({ task: 't', id: 'y', timelimit }, [[], {}], {});
      return [r.timeLimit, r.softTimeLimit];
    };
    expect(limits([null, 5])).toEqual([undefined, 5000]);
    expect(limits([0.5, null])).toEqual([500, undefined]);
    expect(limits([0, -1])).toEqual([undefined, undefined]);
    expect(limits(['5', Infinity])).toEqual([undefined, undefined]);
    expect(limits(5)).toEqual([undefined, undefined]);
  });

  it('keeps only well-formed signatures in the embed, and one shared frozen embed when none is set', () => {
    const r = parseTaskMessage(
      { task: 't', id: 'y' },
      [[], {}, { callbacks: [add, null, 'x', [add], { task: 1 }], errbacks: [mul], chain: 'no', chord: { task: 'proj.mul' } }],
      {},
    );
    expect(r.embed).toEqual({ callbacks: [add], errbacks: [mul], chain: null, chord: { task: 'proj.mul' } });
    const onlyChord = parseTaskMessage({ task: 't', id: 'y' }, [[], {}, { chord: add }], {});
    expect(onlyChord.embed).toEqual({ callbacks: null, errbacks: null, chain: null, chord: add });
    const onlyErrbacks = parseTaskMessage({ task: 't', id: 'y' }, [[], {}, { errbacks: [] }], {});
    expect(onlyErrbacks.embed).toEqual({ callbacks: null, errbacks: [], chain: null, chord: null });
    const badChord = parseTaskMessage({ task: 't', id: 'y' }, [[], {}, { chord: { task: 5 } }], {});
    expect(badChord.embed.chord).toBeNull();
    const arrayChord = parseTaskMessage({ task: 't', id: 'y' }, [[], {}, { chord: [add] }], {});
    expect(arrayChord.embed.chord).toBeNull();
    const none = [
      [[], {}, { callbacks: null, errbacks: null, chain: null, chord: null }],
      [[], {}, null],
      [[], {}, [add]],
      [[], {}],
    ].map((body) => parseTaskMessage({ task: 't', id: 'y' }, body, {}).embed);
    for (const embed of none) {
      expect(embed).toBe(none[0]);
      expect(Object.isFrozen(embed)).toBe(true);
    }
    expect(none[0]).toEqual({ callbacks: null, errbacks: null, chain: null, chord: null });
  });

  it('refuses a body or id it cannot run, naming the task', () => {
    const refusal = (headers: Record<string, unknown>, body: unknown): unknown => {
      try {
        parseTaskMessage(headers, body, {});
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidTaskError);
        return (error as Error).message;
      }
      return 'accepted';
    };
    const h = { task: 'proj.add', id: 'y' };
    expect(refusal(h, { args: [] })).toBe('task proj.add: protocol 2 body must be [args, kwargs, embed]');
    expect(refusal(h, [[]])).toBe('task proj.add: protocol 2 body must be [args, kwargs, embed]');
    expect(refusal(h, [{}, {}])).toBe('task proj.add: args must be a list');
    expect(refusal(h, [[], []])).toBe('task proj.add: kwargs must be a mapping');
    expect(refusal(h, [[], null])).toBe('task proj.add: kwargs must be a mapping');
    expect(refusal({ task: 'proj.add' }, [[], {}])).toBe('task proj.add: no id header');
    expect(refusal({ task: 'proj.add', id: '' }, [[], {}])).toBe('task proj.add: no id header');
    expect(refusal({ task: 'proj.add', id: 7 }, [[], {}])).toBe('task proj.add: no id header');
    expect(refusal({ task: 5 }, { id: 'y' })).toBe('not a Celery task message: no "task" header (protocol 2) or body field (protocol 1)');
    expect(refusal({}, null)).toBe('not a Celery task message: no "task" header (protocol 2) or body field (protocol 1)');
    expect(refusal({}, [{ task: 't' }])).toBe('not a Celery task message: no "task" header (protocol 2) or body field (protocol 1)');
  });
});

describe('parseTaskMessage: protocol 1', () => {
  it('reads a v1 body in full: the id as root, no parent, the taskset as group, no chain', () => {
    const r = parseTaskMessage(
      { task: 5 },
      {
        task: 'proj.add',
        id: 'v1-1',
        args: [1],
        kwargs: { a: 'b' },
        retries: 4,
        eta: '2030-01-01T00:00:00+00:00',
        expires: '2030-01-02T00:00:00',
        taskset: 'ts-1',
        timelimit: [3, 1],
        callbacks: [add],
        errbacks: [mul],
        chain: [add],
        chord: mul,
      },
      { replyTo: 'reply-q', correlationId: 'v1-1' },
    );
    expect(r).toEqual({
      id: 'v1-1',
      name: 'proj.add',
      args: [1],
      kwargs: { a: 'b' },
      embed: { callbacks: [add], errbacks: [mul], chain: null, chord: mul },
      retries: 4,
      eta: new Date('2030-01-01T00:00:00Z'),
      expires: new Date('2030-01-02T00:00:00Z'),
      rootId: 'v1-1',
      parentId: null,
      group: 'ts-1',
      groupIndex: null,
      timeLimit: 3000,
      softTimeLimit: 1000,
      origin: null,
      ignoreResult: false,
      replyTo: 'reply-q',
      correlationId: 'v1-1',
      argsrepr: '(1,)',
      kwargsrepr: "{'a': 'b'}",
      lang: 'py',
      shadow: null,
      protocol: 1,
    });
  });

  it('defaults args and kwargs, and refuses a body it cannot run, naming the task', () => {
    const r = parseTaskMessage({}, { task: 'proj.add', id: 'v1-2', retries: 'x', taskset: '' }, { replyTo: '' });
    expect(r).toMatchObject({ args: [], kwargs: {}, retries: 0, group: null, replyTo: undefined, argsrepr: '()', kwargsrepr: '{}', protocol: 1 });
    expect(r.embed).toEqual({ callbacks: null, errbacks: null, chain: null, chord: null });
    expect(() => parseTaskMessage({}, { task: 'proj.add' }, {})).toThrow(new InvalidTaskError('task proj.add: protocol 1 body has no id'));
    expect(() => parseTaskMessage({}, { task: 'proj.add', id: '' }, {})).toThrow(new InvalidTaskError('task proj.add: protocol 1 body has no id'));
    expect(() => parseTaskMessage({}, { task: 'proj.add', id: 'v', args: {} }, {})).toThrow(new InvalidTaskError('task proj.add: args must be a list'));
    expect(() => parseTaskMessage({}, { task: 'proj.add', id: 'v', kwargs: [] }, {})).toThrow(new InvalidTaskError('task proj.add: kwargs must be a mapping'));
  });
});
