/*
 * queue.c - bounded blocking queues of frame pointers (queue.h). Files use
 * evo_vqueue_push, which waits, so no frame is ever dropped; live sources
 * use evo_vqueue_push_newest, which evicts the oldest frame instead.
 */
#include "video/queue.h"

#include <stdlib.h>

bool evo_vqueue_init(evo_vqueue *q, int cap)
{
    q->slots = calloc((size_t)cap, sizeof(void *));
    if (!q->slots)
        return false;
    q->cap = cap, q->head = 0, q->count = 0, q->closed = false;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return true;
}

void evo_vqueue_destroy(evo_vqueue *q)
{
    if (!q->slots)
        return;
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->slots);
    q->slots = NULL;
}

static void put(evo_vqueue *q, void *item)
{
    q->slots[(q->head + q->count) % q->cap] = item;
    q->count++;
    pthread_cond_signal(&q->not_empty);
}

static void *take(evo_vqueue *q)
{
    void *item = q->slots[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    pthread_cond_signal(&q->not_full);
    return item;
}

bool evo_vqueue_push(evo_vqueue *q, void *item)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == q->cap && !q->closed)
        pthread_cond_wait(&q->not_full, &q->mu);
    bool ok = !q->closed;
    if (ok)
        put(q, item);
    pthread_mutex_unlock(&q->mu);
    return ok;
}

bool evo_vqueue_push_newest(evo_vqueue *q, void *item, void **evicted)
{
    *evicted = NULL;
    pthread_mutex_lock(&q->mu);
    bool ok = !q->closed;
    if (ok) {
        if (q->count == q->cap)
            *evicted = take(q);
        put(q, item);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

void *evo_vqueue_pop(evo_vqueue *q)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->mu);
    void *item = q->count ? take(q) : NULL;
    pthread_mutex_unlock(&q->mu);
    return item;
}

void evo_vqueue_close(evo_vqueue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mu);
}
