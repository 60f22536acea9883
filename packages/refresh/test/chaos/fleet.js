/* The chaos suite's app processes: forked workers (worker.js), restartable, pausable, killable. */
const { fork } = require('node:child_process');
const { join } = require('node:path');

class Fleet {
  /** `onEvent(index, message)` receives every worker message. */
  constructor({ size, env, onEvent }) {
    this.size = size;
    this.env = env;
    this.onEvent = onEvent;
    this.workers = [];
    this.waiters = new Map();
    this.nextId = 1;
  }

  async start() {
    for (let i = 0; i < this.size; i++) this.workers[i] = this.#spawn(i);
    await Promise.all(this.workers.map((w) => w.ready));
  }

  #spawn(index) {
    const child = fork(join(__dirname, 'worker.js'), [], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const worker = { child, paused: false, alive: true };
    worker.ready = new Promise((resolve, reject) => {
      child.once('exit', () => reject(new Error(`chaos worker ${index} exited before it was ready`)));
      child.on('message', (m) => m && m.ev === 'ready' && resolve());
    });
    worker.ready.catch(() => undefined);
    child.on('message', (m) => {
      if (!m) return;
      const key = `${index}:${m.ev}:${m.id ?? ''}`;
      const waiter = this.waiters.get(key);
      if (waiter) {
        this.waiters.delete(key);
        waiter(m);
      }
      this.onEvent(index, m);
    });
    child.once('exit', () => {
      worker.alive = false;
    });
    return worker;
  }

  send(index, message) {
    const worker = this.workers[index];
    if (worker.alive && worker.child.connected) worker.child.send(message, () => undefined);
  }

  /** Sends `message` and resolves the worker's `reply` event (or undefined after `timeoutMs`). */
  ask(index, message, reply, timeoutMs = 8000) {
    const id = message.id ?? '';
    return new Promise((resolve) => {
      const key = `${index}:${reply}:${id}`;
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(key, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.send(index, message);
    });
  }

  id() {
    return this.nextId++;
  }

  /** SIGKILL, then a fresh process in its place (configured by the caller). */
  async kill(index) {
    const worker = this.workers[index];
    worker.child.kill('SIGKILL');
    this.workers[index] = this.#spawn(index);
    await this.workers[index].ready;
  }

  pause(index) {
    const worker = this.workers[index];
    if (!worker.alive || worker.paused) return false;
    worker.paused = true;
    worker.child.kill('SIGSTOP');
    return true;
  }

  resume(index) {
    const worker = this.workers[index];
    if (!worker.paused) return;
    worker.paused = false;
    worker.child.kill('SIGCONT');
  }

  resumeAll() {
    for (let i = 0; i < this.size; i++) this.resume(i);
  }

  async stop() {
    this.resumeAll();
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise((resolve) => {
            if (!w.alive) return resolve();
            const timer = setTimeout(() => w.child.kill('SIGKILL'), 6000);
            w.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            this.send(this.workers.indexOf(w), { op: 'close' });
          }),
      ),
    );
  }
}

module.exports = { Fleet };
