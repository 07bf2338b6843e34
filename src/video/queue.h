/*
 * queue.h - the bounded frame queues between the stages of a stream: a ring
 * of pointers under one mutex with two condition variables (never a busy
 * wait). A closed queue hands out what it holds, then NULL.
 */
#ifndef EVO_VIDEO_QUEUE_H
#define EVO_VIDEO_QUEUE_H

#include <pthread.h>
#include <stdbool.h>

typedef struct evo_vqueue {
    void **slots;
    int cap, head, count;
    bool closed;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
} evo_vqueue;

/* false when out of memory. */
bool evo_vqueue_init(evo_vqueue *q, int cap);
void evo_vqueue_destroy(evo_vqueue *q);
/* Waits for room; false (item not taken) when the queue is closed. */
bool evo_vqueue_push(evo_vqueue *q, void *item);
/*
 * Never waits: when full, the oldest item is taken out and returned through
 * *evicted (else *evicted is NULL), so the newest frame always gets in.
 * false (item not taken) when the queue is closed.
 */
bool evo_vqueue_push_newest(evo_vqueue *q, void *item, void **evicted);
/* Waits for an item; NULL once the queue is closed and empty. */
void *evo_vqueue_pop(evo_vqueue *q);
void evo_vqueue_close(evo_vqueue *q);

#endif /* EVO_VIDEO_QUEUE_H */
