/* SPDX-License-Identifier: Apache-2.0 */
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "edw/alloc.h"

struct edw_pool {
    const struct edw_handler *handler;
    const struct edw_clock *clock;
    pthread_mutex_t lock;
    pthread_cond_t work;     /* signalled on submit and on shutdown */
    pthread_cond_t finished; /* signalled when a job completes */
    struct edw_job *head, *tail;
    unsigned long completions; /* guarded by lock */
    unsigned long seen;        /* completions the waiter has observed (waiter only) */
    bool stopping;
    atomic_bool cancel;
    pthread_t *threads;
    size_t nthreads;
};

static void *thread_main(void *arg)
{
    struct edw_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        if (!p->head)
            break;
        struct edw_job *job = p->head;
        p->head = job->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);

        p->handler->run(p->handler, job->payload, job->body, job->body_len, &p->cancel,
                        &job->result);
        job->finished_wall_us = edw_clock_wall_us(p->clock);

        pthread_mutex_lock(&p->lock);
        atomic_store_explicit(&job->done, true, memory_order_release);
        p->completions++;
        pthread_cond_broadcast(&p->finished);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct edw_pool *edw_pool_new(const struct edw_handler *h, const struct edw_clock *clock,
                              size_t threads)
{
    struct edw_pool *p = edw_xcalloc(1, sizeof(*p));
    p->handler = h;
    p->clock = clock;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->finished, &ca);
    pthread_condattr_destroy(&ca);
    p->threads = edw_xcalloc(threads, sizeof(pthread_t));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024); /* handlers are shallow; keep RSS small */
    for (size_t i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], &attr, thread_main, p) != 0)
            break;
        p->nthreads++;
    }
    pthread_attr_destroy(&attr);
    if (p->nthreads == 0)
        abort(); /* no thread at all: nothing could ever run; treat like OOM */
    return p;
}

void edw_pool_submit(struct edw_pool *p, struct edw_job *job)
{
    atomic_store(&job->done, false);
    job->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
}

void edw_pool_wait(struct edw_pool *p, int64_t timeout_us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + timeout_us * 1000;
    ts.tv_sec += (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&p->lock);
    while (p->completions == p->seen) {
        if (pthread_cond_timedwait(&p->finished, &p->lock, &ts) != 0)
            break;
    }
    p->seen = p->completions;
    pthread_mutex_unlock(&p->lock);
}

void edw_pool_cancel(struct edw_pool *p)
{
    atomic_store(&p->cancel, true);
}

void edw_pool_destroy(struct edw_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->finished);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
