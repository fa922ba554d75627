/*
 * kafkaconsume: reads a topic back from the beginning for the Kafka
 * tests.
 *
 *	kafkaconsume [-n COUNT] [-t SECONDS] [-e] BROKERS TOPIC
 *
 * assigns every partition of TOPIC from its first offset and prints one
 * JSON line per message:
 *
 *	{"partition":P,"offset":O,"key":"..."|null,"value":"...",
 *	 "headers":[["name","value"],...]}
 *
 * (a key, value or header value that is not UTF-8 comes as
 * "key_hex"/"value_hex" or ["name",null,"HEX"]). It stops after COUNT
 * messages, at the end of every partition with -e, or after SECONDS
 * (default 30) in any case, and exits 0 unless it could not read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

static char *
hex(const void *p, size_t len)
{
	const unsigned char	*b = p;
	char			*s;
	size_t			 i;

	if ((s = malloc(len * 2 + 1)) == NULL)
		exit(1);
	for (i = 0; i < len; i++)
		snprintf(s + i * 2, 3, "%02x", b[i]);
	return s;
}

/* name as a string, or name_hex when the bytes are not UTF-8. */
static void
put_bytes(json_t *o, const char *name, const void *p, size_t len)
{
	json_t	*s;
	char	 hname[64], *h;

	if (p == NULL) {
		json_object_set_new(o, name, json_null());
		return;
	}
	if ((s = json_stringn(p, len)) != NULL) {
		json_object_set_new(o, name, s);
		return;
	}
	snprintf(hname, sizeof(hname), "%s_hex", name);
	h = hex(p, len);
	json_object_set_new(o, hname, json_string(h));
	free(h);
}

static json_t *
headers(const rd_kafka_message_t *m)
{
	rd_kafka_headers_t	*hd;
	json_t			*a = json_array(), *pair, *v;
	const char		*name;
	const void		*val;
	size_t			 len, i;
	char			*h;

	if (rd_kafka_message_headers(m, &hd) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return a;
	for (i = 0; rd_kafka_header_get_all(hd, i, &name, &val, &len) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
		pair = json_array();
		json_array_append_new(pair, json_string(name));
		if (val == NULL)
			json_array_append_new(pair, json_null());
		else if ((v = json_stringn(val, len)) != NULL)
			json_array_append_new(pair, v);
		else {
			json_array_append_new(pair, json_null());
			h = hex(val, len);
			json_array_append_new(pair, json_string(h));
			free(h);
		}
		json_array_append_new(a, pair);
	}
	return a;
}

static void
print(const rd_kafka_message_t *m)
{
	json_t	*o = json_object();
	char	*s;

	json_object_set_new(o, "partition", json_integer(m->partition));
	json_object_set_new(o, "offset", json_integer(m->offset));
	put_bytes(o, "key", m->key, m->key_len);
	put_bytes(o, "value", m->payload, m->len);
	json_object_set_new(o, "headers", headers(m));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* Every partition of the topic, from its first offset. */
static int
assign(rd_kafka_t *rk, const char *topic)
{
	const struct rd_kafka_metadata		*md;
	rd_kafka_topic_partition_list_t		*parts;
	rd_kafka_topic_t			*rkt;
	int					 i, n = -1;

	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_topic_destroy(rkt);
		return -1;
	}
	if (md->topic_cnt == 1 && md->topics[0].err == 0) {
		n = md->topics[0].partition_cnt;
		parts = rd_kafka_topic_partition_list_new(n);
		for (i = 0; i < n; i++)
			rd_kafka_topic_partition_list_add(parts, topic,
			    md->topics[0].partitions[i].id)->offset =
			    RD_KAFKA_OFFSET_BEGINNING;
		if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
			n = -1;
		rd_kafka_topic_partition_list_destroy(parts);
	}
	rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return n;
}

static rd_kafka_t *
consumer(const char *brokers)
{
	rd_kafka_conf_t	*conf = rd_kafka_conf_new();
	rd_kafka_t	*rk;
	char		 err[256];

	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "group.id", "kafkaconsume", err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
	    sizeof(err)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err,
	    sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kafkaconsume: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "kafkaconsume: %s\n", err);
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rd_kafka_poll_set_consumer(rk);
	return rk;
}

int
main(int argc, char **argv)
{
	rd_kafka_message_t	*m;
	rd_kafka_t		*rk;
	long			 want = -1, got = 0, secs = 30;
	int			 c, ateof = 0, nparts, *eof;
	time_t			 until;

	while ((c = getopt(argc, argv, "en:t:")) != -1) {
		switch (c) {
		case 'e':
			ateof = 1;
			break;
		case 'n':
			want = atol(optarg);
			break;
		case 't':
			secs = atol(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;
	until = time(NULL) + secs;
	if ((rk = consumer(argv[optind])) == NULL)
		return 1;
	if ((nparts = assign(rk, argv[optind + 1])) < 0) {
		fprintf(stderr, "kafkaconsume: %s: no such topic\n",
		    argv[optind + 1]);
		rd_kafka_destroy(rk);
		return 1;
	}
	if ((eof = calloc((size_t)nparts + 1, sizeof(*eof))) == NULL)
		return 1;
	while (got != want && time(NULL) < until) {
		if ((m = rd_kafka_consumer_poll(rk, 100)) == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (m->partition >= 0 && m->partition < nparts &&
			    !eof[m->partition]) {
				eof[m->partition] = 1;
				eof[nparts]++;
			}
		} else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			print(m);
			got++;
		} else
			fprintf(stderr, "kafkaconsume: %s\n",
			    rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
		if (ateof && eof[nparts] == nparts)
			break;
	}
	fflush(stdout);
	free(eof);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return 0;
usage:
	fprintf(stderr, "usage: kafkaconsume [-n COUNT] [-t SECONDS] [-e] "
	    "BROKERS TOPIC\n");
	return 2;
}
