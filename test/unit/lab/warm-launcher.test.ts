// WarmLauncher keeps one job process started ahead of need: what the spare said while it waited is replayed to
// whoever takes it (in order), a spare that died while waiting is never handed out, and close() kills it.
import { describe, expect, it } from 'vitest';
import type { JobLauncher, JobProcess } from '../../../core/lab/launcher';
import type { ParentMessage } from '../../../core/lab/protocol';
import { WarmLauncher } from '../../../core/lab/warm-launcher';

class FakeProcess implements JobProcess {
  static next = 1;
  readonly pid = FakeProcess.next++;
  readonly sent: ParentMessage[] = [];
  readonly kills: (string | undefined)[] = [];
  private msg: ((m: unknown) => void)[] = [];
  private exit: ((code: number | null, signal: string | null) => void)[] = [];
  private out: ((stream: 'stdout' | 'stderr', text: string) => void)[] = [];
  send(m: ParentMessage): void {
    this.sent.push(m);
  }
  kill(signal?: NodeJS.Signals): void {
    this.kills.push(signal);
  }
  onMessage(cb: (m: unknown) => void): void {
    this.msg.push(cb);
  }
  onExit(cb: (code: number | null, signal: string | null) => void): void {
    this.exit.push(cb);
  }
  onOutput(cb: (stream: 'stdout' | 'stderr', text: string) => void): void {
    this.out.push(cb);
  }
  say(m: unknown): void {
    this.msg.forEach((cb) => cb(m));
  }
  print(text: string): void {
    this.out.forEach((cb) => cb('stderr', text));
  }
  die(code: number): void {
    this.exit.forEach((cb) => cb(code, null));
  }
}

class FakeLauncher implements JobLauncher {
  readonly name = 'fake';
  readonly spawned: FakeProcess[] = [];
  spawn(): JobProcess {
    const p = new FakeProcess();
    this.spawned.push(p);
    return p;
  }
}

describe('WarmLauncher', () => {
  it('starts a spare at once and hands it out with what it said while waiting, in order', () => {
    const inner = new FakeLauncher();
    const warm = new WarmLauncher(inner);
    expect(inner.spawned.length).toBe(1);
    const spare = inner.spawned[0];
    spare.print('loading\n');
    spare.say({ type: 'ready', pid: spare.pid });
    const got = warm.spawn();
    expect(got.pid).toBe(spare.pid);
    expect(inner.spawned.length).toBe(2); // it was up already: the next spare is on its way
    const events: string[] = [];
    got.onOutput?.((_, t) => events.push(`out:${t.trim()}`));
    got.onMessage((m) => events.push(`msg:${(m as { type: string }).type}`));
    got.onExit((code) => events.push(`exit:${code}`));
    expect(events).toEqual(['out:loading', 'msg:ready']);
    // after the hand-over, events pass straight through
    spare.say({ type: 'heartbeat' });
    spare.die(0);
    expect(events).toEqual(['out:loading', 'msg:ready', 'msg:heartbeat', 'exit:0']);
    got.send({ type: 'cancel' });
    expect(spare.sent).toEqual([{ type: 'cancel' }]);
  });

  it('replays an exit that came before anyone listened', () => {
    const inner = new FakeLauncher();
    const warm = new WarmLauncher(inner);
    const p = warm.spawn(); // the spare, alive
    inner.spawned[0].say({ type: 'ready', pid: 1 });
    inner.spawned[0].die(3);
    const events: string[] = [];
    p.onMessage(() => events.push('msg'));
    p.onExit((code) => events.push(`exit:${code}`));
    expect(events).toEqual(['msg', 'exit:3']);
  });

  it('never hands out a spare that died while waiting', () => {
    const inner = new FakeLauncher();
    const warm = new WarmLauncher(inner);
    inner.spawned[0].die(1);
    const p = warm.spawn();
    expect(p.pid).not.toBe(inner.spawned[0].pid);
    expect(p.pid).toBe(inner.spawned[1].pid);
    // the next spare waits until this fresh process is up, so two never load at once
    expect(inner.spawned.length).toBe(2);
    inner.spawned[1].say({ type: 'ready', pid: p.pid });
    expect(inner.spawned.length).toBe(3);
    expect(warm.spawn().pid).toBe(inner.spawned[2].pid);
  });

  it('close() kills the spare and refuses to spawn', () => {
    const inner = new FakeLauncher();
    const warm = new WarmLauncher(inner);
    warm.close();
    expect(inner.spawned[0].kills).toEqual(['SIGKILL']);
    expect(() => warm.spawn()).toThrow(/closed/);
    expect(inner.spawned.length).toBe(1);
  });
});
