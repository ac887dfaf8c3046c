#include "worker_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

// How long a worker keeps polling after its last job before it sleeps. Longer than the gaps
// between the loops of a training step, short enough that an idle backend costs nothing.
enum { SPIN_NANOSECONDS = 500 * 1000 };

struct fm_pool {
    // The job word: generation << 32 | chunk count << 16 | next unclaimed chunk. A worker claims
    // a chunk by advancing it with compare-and-swap, which fails once a newer job is published,
    // so a late worker can never run a chunk of a job it did not see start.
    _Atomic unsigned long long job;
    _Atomic int remaining; // chunks of the current job not yet finished
    _Atomic int sleepers;
    _Atomic int busy;
    _Atomic int stop;
    void (*body)(void *, int); // written before `job` is published, read after a successful claim
    void *context;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int workers;
    pthread_t *threads;
};

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

// Claims and runs chunks of the job published as `word` (by the caller or a worker) until none
// are left or the job word moves on to a newer generation.
static void run_chunks(fm_pool *pool, unsigned long long word) {
    const unsigned long long generation = word >> 32;
    for (;;) {
        unsigned long long next = word & 0xffff, chunks = (word >> 16) & 0xffff;
        if ((word >> 32) != generation || next >= chunks) return;
        if (atomic_compare_exchange_weak(&pool->job, &word, word + 1)) {
            pool->body(pool->context, (int)next);
            atomic_fetch_sub_explicit(&pool->remaining, 1, memory_order_release);
            word = atomic_load_explicit(&pool->job, memory_order_acquire);
        }
    }
}

static void *worker_main(void *argument) {
    fm_pool *pool = argument;
    unsigned long long seen = atomic_load(&pool->job) >> 32;
    for (;;) {
        unsigned long long word = atomic_load_explicit(&pool->job, memory_order_acquire);
        long long spin_start = now_ns();
        for (int polls = 0; (word >> 32) == seen; polls++) {
            if (atomic_load_explicit(&pool->stop, memory_order_relaxed)) return NULL;
            relax();
            // Now and then let any other runnable thread have this core (other processes, or
            // more threads than cores); on an idle core this returns at once.
            if ((polls & 63) == 63) sched_yield();
            if ((polls & 255) == 255 && now_ns() - spin_start > SPIN_NANOSECONDS) {
                pthread_mutex_lock(&pool->lock);
                atomic_fetch_add(&pool->sleepers, 1);
                while ((atomic_load(&pool->job) >> 32) == seen && !atomic_load(&pool->stop))
                    pthread_cond_wait(&pool->wake, &pool->lock);
                atomic_fetch_sub(&pool->sleepers, 1);
                pthread_mutex_unlock(&pool->lock);
                spin_start = now_ns();
            }
            word = atomic_load_explicit(&pool->job, memory_order_acquire);
        }
        seen = word >> 32;
        run_chunks(pool, word);
    }
}

fm_pool *fm_pool_create(int workers) {
    fm_pool *pool = calloc(1, sizeof *pool);
    if (!pool) abort();
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->workers = workers > 0 ? workers : 0;
    pool->threads = calloc(pool->workers > 0 ? pool->workers : 1, sizeof(pthread_t));
    if (!pool->threads) abort();
    for (int i = 0; i < pool->workers; i++)
        if (pthread_create(&pool->threads[i], NULL, worker_main, pool) != 0) abort();
    return pool;
}

void fm_pool_destroy(fm_pool *pool) {
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->workers; i++) pthread_join(pool->threads[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool);
}

void fm_pool_run(fm_pool *pool, int chunks, void (*body)(void *, int), void *context) {
    if (chunks <= 0) return;
    if (pool->workers == 0 || chunks == 1 || chunks > 0xffff || atomic_exchange(&pool->busy, 1)) {
        for (int c = 0; c < chunks; c++) body(context, c);
        return;
    }
    pool->body = body;
    pool->context = context;
    atomic_store_explicit(&pool->remaining, chunks, memory_order_relaxed);
    unsigned long long generation = (atomic_load_explicit(&pool->job, memory_order_relaxed) >> 32) + 1;
    unsigned long long word = generation << 32 | (unsigned long long)chunks << 16;
    atomic_store(&pool->job, word); // sequentially consistent: ordered before the sleepers check
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
    run_chunks(pool, word);
    while (atomic_load_explicit(&pool->remaining, memory_order_acquire) > 0) relax();
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
}
