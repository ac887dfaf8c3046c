#ifndef FACEMINE_WORKER_POOL_H
#define FACEMINE_WORKER_POOL_H
// A small pool of threads that stay awake between the CPU backend's parallel loops.
//
// A training step runs hundreds of parallel loops of 0.01-1 ms each. Handing one to a sleeping
// thread (Dispatch's concurrentPerform) costs 40-70 microseconds of wake-up on the machines we
// measured, longer than many of the loops; these workers spin for a while after each job, so the
// next one starts within a microsecond, and sleep on a condition variable when the backend is idle.

typedef struct fm_pool fm_pool;

// `workers` threads beside the caller's (0 is allowed: every job then runs on the caller).
fm_pool *fm_pool_create(int workers);
// Stops and joins the workers.
void fm_pool_destroy(fm_pool *pool);

// Runs body(context, chunk) for every chunk in 0..<chunks (at most 65535) on the caller and the
// workers, and returns when all have finished. Chunks are claimed one by one, so a worker that
// is slow to wake only means the caller runs more of them. A call made while the pool is busy
// (from inside a chunk, or from another thread) runs all its chunks on the calling thread.
void fm_pool_run(fm_pool *pool, int chunks, void (*body)(void *context, int chunk), void *context);
#endif
