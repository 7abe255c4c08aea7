/*
 * http-sample.c - the TCP states of the echo ports for the http endpoint,
 * read on a thread of their own and kept for a second.
 * Copyright (c) 2026 The seqecho authors. ISC licence: see COPYING.
 *
 * Reading them is one inet_diag dump, and the kernel walks every TCP
 * socket for it: at 10,000 connections with their clients on the same
 * host, some 30 ms (as seqecho -S takes). On the acceptor's loop, which
 * worker 0 shares, that would stall echo traffic at every scrape. So a
 * sampler thread reads them when asked and tells the loop through an
 * event; a sample under a second old serves without asking, and while
 * the endpoint is asked at least every SAMPLE_KEEP seconds the sampler
 * reads again each second, so that a scrape rarely waits.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "http.h"

/* Echo ports read at most; more are left out of the counts. */
#define SAMPLE_PORTS		64
/* Seconds a sample serves, and between samples while asked. */
#define SAMPLE_FRESH		1.0
/* Seconds after the last request that sampling goes on. */
#define SAMPLE_KEEP		30.0

struct sampler {
	pthread_t		 thread;
	pthread_mutex_t		 lock;		/* guards what follows */
	pthread_cond_t		 cond;
	int			 quit;
	int			 ports[SAMPLE_PORTS];
	size_t			 nports;
	unsigned		 asked;		/* samples wanted */
	unsigned		 done;		/* the last one taken */
	double			 at;		/* when; 0 = none yet */
	double			 last_asked;
	int			 valid;
	struct sockstat_counts	 tcp;
	const char		*source;
	struct event		*answer;	/* in the loop: one is ready */
};

static void	*sampler_main(void *);
static void	 sampler_take(struct sampler *);
static double	 now_mono(void);

/* Start the thread; answer is activated each time a sample is ready. */
struct sampler *
sampler_new(struct event *answer)
{
	struct sampler	*sp;
	int		 error;

	sp = xcalloc(1, sizeof *sp);
	sp->answer = answer;
	pthread_mutex_init(&sp->lock, NULL);
	pthread_cond_init(&sp->cond, NULL);
	if ((error = pthread_create(&sp->thread, NULL, sampler_main, sp)) != 0)
		fatalx("cannot start the http sampler: %s", strerror(error));
	pthread_setname_np(sp->thread, "seqechod-http");
	return (sp);
}

/* Stop the thread (a sample under way finishes first) and free. */
void
sampler_free(struct sampler *sp)
{
	pthread_mutex_lock(&sp->lock);
	sp->quit = 1;
	pthread_cond_signal(&sp->cond);
	pthread_mutex_unlock(&sp->lock);
	pthread_join(sp->thread, NULL);
	pthread_mutex_destroy(&sp->lock);
	pthread_cond_destroy(&sp->cond);
	free(sp);
}

/*
 * The last sample into m, if it is fresh; else ask for one of ports and
 * return the number of the sample to wait for. 0: m has a fresh one.
 */
unsigned
sampler_get(struct sampler *sp, const int *ports, size_t nports,
    struct metrics_snapshot *m)
{
	double		 now = now_mono();
	unsigned	 want = 0;

	if (nports > SAMPLE_PORTS)
		nports = SAMPLE_PORTS;
	pthread_mutex_lock(&sp->lock);
	sp->last_asked = now;
	memcpy(sp->ports, ports, nports * sizeof *ports);
	sp->nports = nports;
	if (sp->at > 0 && now - sp->at < SAMPLE_FRESH &&
	    sp->asked == sp->done) {
		m->tcp_valid = sp->valid;
		m->tcp = sp->tcp;
		m->tcp_source = sp->source;
	} else {
		if (sp->asked == sp->done)
			sp->asked++;
		want = sp->asked;
		pthread_cond_signal(&sp->cond);
	}
	pthread_mutex_unlock(&sp->lock);
	return (want);
}

/* Whether sample want is taken; if so, it is copied into m. */
int
sampler_ready(struct sampler *sp, unsigned want, struct metrics_snapshot *m)
{
	int	ready;

	pthread_mutex_lock(&sp->lock);
	ready = (int)(sp->done - want) >= 0;
	if (ready) {
		m->tcp_valid = sp->valid;
		m->tcp = sp->tcp;
		m->tcp_source = sp->source;
	}
	pthread_mutex_unlock(&sp->lock);
	return (ready);
}

/* Take a sample when asked, or each second while the endpoint is used. */
static void *
sampler_main(void *arg)
{
	struct sampler	*sp = arg;
	struct timespec	 until;
	double		 now;

	pthread_mutex_lock(&sp->lock);
	while (!sp->quit) {
		now = now_mono();
		if (sp->asked != sp->done || (sp->nports > 0 &&
		    now - sp->last_asked < SAMPLE_KEEP &&
		    now - sp->at >= SAMPLE_FRESH)) {
			sampler_take(sp);
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&sp->cond, &sp->lock, &until);
	}
	pthread_mutex_unlock(&sp->lock);
	return (NULL);
}

/* One sample, the lock dropped while the kernel is asked. */
static void
sampler_take(struct sampler *sp)
{
	struct sockstat_counts	 sum, c;
	int			 ports[SAMPLE_PORTS];
	size_t			 n = sp->nports, i;
	unsigned		 round = sp->asked;
	const char		*source = NULL;
	char			 why[256];
	int			 s, valid = 1;

	memcpy(ports, sp->ports, n * sizeof *ports);
	pthread_mutex_unlock(&sp->lock);
	memset(&sum, 0, sizeof sum);
	for (i = 0; i < n && valid; i++) {
		if (sockstat_count(ports[i], &c, &source, why,
		    sizeof why) == -1) {
			log_debug("http: %s", why);
			valid = 0;
			break;
		}
		for (s = 0; s <= SOCKSTAT_NSTATES; s++) {
			sum.total[s] += c.total[s];
			sum.daemon[s] += c.daemon[s];
			sum.clients[s] += c.clients[s];
		}
		sum.sockets += c.sockets;
	}
	pthread_mutex_lock(&sp->lock);
	sp->tcp = sum;
	sp->valid = valid;
	sp->source = source;
	sp->at = now_mono();
	sp->done = round;
	/* A round in the loop may wait for it; the lock is not held over
	 * another, the loop's base's. */
	pthread_mutex_unlock(&sp->lock);
	event_active(sp->answer, EV_READ, 1);
	pthread_mutex_lock(&sp->lock);
}

static double
now_mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}
