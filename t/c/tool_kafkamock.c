/*
 * kafkamock: librdkafka's mock cluster, for the Kafka tests. It speaks
 * the Kafka protocol on real sockets on 127.0.0.1, with brokers, topics
 * and partitions held in memory.
 *
 *	kafkamock BROKERS [TOPIC:PARTITIONS]...
 *
 * starts BROKERS brokers (ids 1 to BROKERS), creates the topics given,
 * prints the bootstrap servers on one line on standard output, then reads
 * commands from standard input, one a line, and answers each with "ok"
 * or "error WHY":
 *
 *	errors APIKEY CNT ERR...  the next CNT requests of APIKEY (a number,
 *				  or Produce, Fetch, Metadata, InitProducerId)
 *				  fail with the ERRs in turn (numbers, or
 *				  names such as NOT_LEADER_FOR_PARTITION)
 *	clear APIKEY		  drops the errors still pushed for APIKEY
 *	topicerror TOPIC ERR	  metadata of TOPIC says ERR (0 to stop)
 *	down ID / up ID		  a broker stops or starts answering
 *	rtt ID MS		  a broker answers MS milliseconds late
 *	topic NAME PARTITIONS	  creates a topic
 *	quit			  (or end of input) stops the cluster
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAXWORDS	64

static const struct {
	const char	*name;
	int16_t		 key;
} apis[] = {
	{ "Produce", 0 }, { "Fetch", 1 }, { "ListOffsets", 2 },
	{ "Metadata", 3 }, { "FindCoordinator", 10 },
	{ "InitProducerId", 22 },
};

static int
number(const char *s, long *v)
{
	char	*end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && errno == 0 ? 0 : -1;
}

static int
apikey(const char *s, int16_t *key)
{
	size_t	 i;
	long	 v;

	for (i = 0; i < sizeof(apis) / sizeof(apis[0]); i++)
		if (strcasecmp(s, apis[i].name) == 0) {
			*key = apis[i].key;
			return 0;
		}
	if (number(s, &v) == -1 || v < 0 || v > INT16_MAX)
		return -1;
	*key = (int16_t)v;
	return 0;
}

/* An error by number or by name (as rd_kafka_err2name says it). */
static int
errcode(const char *s, rd_kafka_resp_err_t *err)
{
	const struct rd_kafka_err_desc	*d;
	size_t				 n, i;
	long				 v;

	if (number(s, &v) == 0) {
		*err = (rd_kafka_resp_err_t)v;
		return 0;
	}
	rd_kafka_get_err_descs(&d, &n);
	for (i = 0; i < n; i++)
		if (d[i].name != NULL && strcasecmp(d[i].name, s) == 0) {
			*err = d[i].code;
			return 0;
		}
	return -1;
}

static const char *
errors(rd_kafka_mock_cluster_t *mc, char **w, int n)
{
	rd_kafka_resp_err_t	 errs[MAXWORDS];
	int16_t			 key;
	long			 cnt;
	int			 i;

	if (n < 4 || apikey(w[1], &key) == -1 || number(w[2], &cnt) == -1 ||
	    cnt < 1)
		return "usage: errors APIKEY CNT ERR...";
	for (i = 3; i < n; i++)
		if (errcode(w[i], &errs[i - 3]) == -1)
			return "unknown error";
	/* The errors given are used in turn for CNT requests. */
	{
		rd_kafka_resp_err_t	 all[1024];
		long			 j;

		if (cnt > 1024)
			return "at most 1024";
		for (j = 0; j < cnt; j++)
			all[j] = errs[j % (n - 3)];
		rd_kafka_mock_push_request_errors_array(mc, key, (size_t)cnt,
		    all);
	}
	return NULL;
}

static const char *
broker(rd_kafka_mock_cluster_t *mc, char **w, int n)
{
	long	 id, ms;

	if (n < 2 || number(w[1], &id) == -1)
		return "usage: down|up|rtt ID [MS]";
	if (strcmp(w[0], "down") == 0)
		return rd_kafka_mock_broker_set_down(mc, (int32_t)id) ?
		    "no such broker" : NULL;
	if (strcmp(w[0], "up") == 0)
		return rd_kafka_mock_broker_set_up(mc, (int32_t)id) ?
		    "no such broker" : NULL;
	if (n != 3 || number(w[2], &ms) == -1)
		return "usage: rtt ID MS";
	return rd_kafka_mock_broker_set_rtt(mc, (int32_t)id, (int)ms) ?
	    "no such broker" : NULL;
}

static const char *
command(rd_kafka_mock_cluster_t *mc, char **w, int n)
{
	rd_kafka_resp_err_t	 err;
	int16_t			 key;
	long			 v;

	if (strcmp(w[0], "errors") == 0)
		return errors(mc, w, n);
	if (strcmp(w[0], "clear") == 0) {
		if (n != 2 || apikey(w[1], &key) == -1)
			return "usage: clear APIKEY";
		rd_kafka_mock_clear_request_errors(mc, key);
		return NULL;
	}
	if (strcmp(w[0], "topicerror") == 0) {
		if (n != 3 || errcode(w[2], &err) == -1)
			return "usage: topicerror TOPIC ERR";
		rd_kafka_mock_topic_set_error(mc, w[1], err);
		return NULL;
	}
	if (strcmp(w[0], "topic") == 0) {
		if (n != 3 || number(w[2], &v) == -1 || v < 1)
			return "usage: topic NAME PARTITIONS";
		return rd_kafka_mock_topic_create(mc, w[1], (int)v, 1) ?
		    "cannot create it" : NULL;
	}
	if (strcmp(w[0], "down") == 0 || strcmp(w[0], "up") == 0 ||
	    strcmp(w[0], "rtt") == 0)
		return broker(mc, w, n);
	return "unknown command";
}

static int
split(char *line, char **w)
{
	int	 n = 0;
	char	*tok;

	for (tok = strtok(line, " \t\r\n"); tok != NULL && n < MAXWORDS;
	    tok = strtok(NULL, " \t\r\n"))
		w[n++] = tok;
	return n;
}

static int
topics(rd_kafka_mock_cluster_t *mc, char **argv)
{
	char	*colon;
	long	 parts;

	for (; *argv != NULL; argv++) {
		if ((colon = strrchr(*argv, ':')) == NULL ||
		    number(colon + 1, &parts) == -1 || parts < 1) {
			fprintf(stderr, "kafkamock: %s: not TOPIC:PARTITIONS\n",
			    *argv);
			return -1;
		}
		*colon = '\0';
		if (rd_kafka_mock_topic_create(mc, *argv, (int)parts, 1)) {
			fprintf(stderr, "kafkamock: %s: cannot create\n",
			    *argv);
			return -1;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	rd_kafka_mock_cluster_t	*mc;
	rd_kafka_conf_t		*conf;
	rd_kafka_t		*rk;
	char			 line[4096], err[256], *w[MAXWORDS];
	const char		*why;
	long			 brokers;
	int			 n, rc = 1;

	if (argc < 2 || number(argv[1], &brokers) == -1 || brokers < 1) {
		fprintf(stderr, "usage: kafkamock BROKERS "
		    "[TOPIC:PARTITIONS]...\n");
		return 2;
	}
	/* The handle the cluster needs connects nowhere: no notice of that. */
	conf = rd_kafka_conf_new();
	rd_kafka_conf_set(conf, "log_level", "4", err, sizeof(err));
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "kafkamock: %s\n", err);
		return 1;
	}
	if ((mc = rd_kafka_mock_cluster_new(rk, (int)brokers)) == NULL) {
		fprintf(stderr, "kafkamock: no mock cluster\n");
		goto fail;
	}
	if (topics(mc, argv + 2) == -1)
		goto fail;
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if ((n = split(line, w)) == 0)
			continue;
		if (strcmp(w[0], "quit") == 0)
			break;
		if ((why = command(mc, w, n)) == NULL)
			printf("ok\n");
		else
			printf("error %s\n", why);
		fflush(stdout);
	}
	rc = 0;
fail:
	if (mc != NULL)
		rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return rc;
}
