/*
 * The benchmark's watch on a broker: polls how many messages an AMQP
 * queue or a Kafka topic holds, every 10 ms, until it holds N or the
 * time is up, and prints when N was first seen, in milliseconds since
 * the epoch as loadgen's start_ms is, so that bench/run.pl can time a
 * run end to end. One connection serves every poll, so that the watch
 * takes little of the machine from what it times.
 *
 *   benchwait amqp URL QUEUE N SECONDS
 *   benchwait kafka BOOTSTRAP TOPIC N SECONDS
 *
 * Prints "done_ms=T count=C" and exits 0, or "timeout count=C" and
 * exits 1. A queue's count is its ready messages (passive
 * queue.declare: nobody consumes them); a topic's is the sum of its
 * partitions' high watermarks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <librdkafka/rdkafka.h>

#define POLL_NS		10000000L

static double
wall_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double
mono_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
nap(void)
{
	struct timespec	ts = { 0, POLL_NS };

	nanosleep(&ts, NULL);
}

/* One count of what the broker holds, or -1 when it could not tell. */
typedef long long (*count_fn)(void *);

/* Polls until the count reaches n or secs have passed. */
static int
watch(count_fn count, void *arg, long long n, double secs)
{
	double		 deadline = mono_s() + secs;
	long long	 c = 0, got;

	for (;;) {
		if ((got = count(arg)) >= 0)
			c = got;
		if (c >= n) {
			printf("done_ms=%.3f count=%lld\n", wall_ms(), c);
			return 0;
		}
		if (mono_s() > deadline)
			break;
		nap();
	}
	printf("timeout count=%lld\n", c);
	return 1;
}

struct amqp_watch {
	amqp_connection_state_t	 conn;
	const char		*queue;
};

static long long
amqp_count(void *arg)
{
	struct amqp_watch	*w = arg;
	amqp_queue_declare_ok_t	*ok;

	ok = amqp_queue_declare(w->conn, 1, amqp_cstring_bytes(w->queue), 1,
	    0, 0, 0, amqp_empty_table);
	if (ok == NULL) {
		fprintf(stderr, "benchwait: queue.declare %s failed\n",
		    w->queue);
		exit(2);
	}
	return ok->message_count;
}

static int
amqp_watch(const char *url, const char *queue, long long n, double secs)
{
	struct amqp_connection_info	 ci;
	struct amqp_watch		 w = { NULL, queue };
	amqp_socket_t			*s;
	char				*copy = strdup(url);
	int				 rc;

	if (copy == NULL || amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
		fprintf(stderr, "benchwait: %s: bad url\n", url);
		return 2;
	}
	w.conn = amqp_new_connection();
	if ((s = amqp_tcp_socket_new(w.conn)) == NULL ||
	    amqp_socket_open(s, ci.host, ci.port) != AMQP_STATUS_OK ||
	    amqp_login(w.conn, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
	    ci.user, ci.password).reply_type != AMQP_RESPONSE_NORMAL ||
	    amqp_channel_open(w.conn, 1) == NULL) {
		fprintf(stderr, "benchwait: %s: cannot connect\n", url);
		return 2;
	}
	rc = watch(amqp_count, &w, n, secs);
	amqp_channel_close(w.conn, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(w.conn, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(w.conn);
	free(copy);
	return rc;
}

struct kafka_watch {
	rd_kafka_t	*rk;
	const char	*topic;
};

static long long
kafka_count(void *arg)
{
	struct kafka_watch		*w = arg;
	const struct rd_kafka_metadata	*md = NULL;
	rd_kafka_topic_t		*rkt;
	long long			 sum = 0;
	int64_t				 lo, hi;
	int				 i;

	/* The partitions may appear only once a producer creates it. */
	if ((rkt = rd_kafka_topic_new(w->rk, w->topic, NULL)) == NULL)
		return -1;
	if (rd_kafka_metadata(w->rk, 0, rkt, &md, 1000) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
	    md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
		sum = -1;
	for (i = 0; sum >= 0 && i < md->topics[0].partition_cnt; i++) {
		if (rd_kafka_query_watermark_offsets(w->rk, w->topic,
		    md->topics[0].partitions[i].id, &lo, &hi, 1000) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR)
			sum = -1;
		else
			sum += hi;
	}
	if (md != NULL)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return sum;
}

static int
kafka_watch(const char *bootstrap, const char *topic, long long n,
    double secs)
{
	struct kafka_watch	 w = { NULL, topic };
	rd_kafka_conf_t		*conf = rd_kafka_conf_new();
	char			 err[512];
	int			 rc;

	/* Asking for the topic's metadata must not create it. */
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    (w.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "benchwait: %s\n", err);
		return 2;
	}
	rc = watch(kafka_count, &w, n, secs);
	rd_kafka_destroy(w.rk);
	return rc;
}

int
main(int argc, char **argv)
{
	long long	n;
	double		secs;

	if (argc != 6) {
		fprintf(stderr, "usage: benchwait amqp|kafka URL|BOOTSTRAP "
		    "QUEUE|TOPIC N SECONDS\n");
		return 2;
	}
	n = atoll(argv[4]);
	secs = atof(argv[5]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "amqp") == 0)
		return amqp_watch(argv[2], argv[3], n, secs);
	if (strcmp(argv[1], "kafka") == 0)
		return kafka_watch(argv[2], argv[3], n, secs);
	fprintf(stderr, "benchwait: %s: neither amqp nor kafka\n", argv[1]);
	return 2;
}
