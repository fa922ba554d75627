/*
 * Delivers batches through the AMQP transport with a hook filled by
 * hand, and prints each result as one JSON line, so that t/amqp-send.t
 * can see what the transport makes of a broker's answers (confirms,
 * returns, nacks, closes) without spoold.
 *
 *   amqpsend [-e EXCHANGE] [-k ROUTING_KEY] [-M] [-t TIMEOUT_MS]
 *       [-C CA_FILE] [-b BATCHES] [-F] [-L] URL < records
 *
 * Each line of standard input is a record; the records make one batch,
 * delivered BATCHES times (ids 1 on), -F and -L setting PROTO_F_FRESH
 * and PROTO_F_LAST. -M clears mandatory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "transport.h"

static json_t *
result_json(const struct proto_result *r)
{
	json_t		*o, *recs;
	uint32_t	 i;

	recs = json_array();
	for (i = 0; i < r->nrecs; i++)
		json_array_append_new(recs, json_pack("{s:i,s:i,s:i,s:s%}",
		    "index", (int)r->recs[i].index,
		    "class", (int)r->recs[i].class,
		    "code", (int)r->recs[i].code,
		    "text", r->recs[i].text != NULL ? r->recs[i].text : "",
		    (size_t)r->recs[i].textlen));
	o = json_pack("{s:i,s:i,s:s%,s:i,s:o}", "class", (int)r->class,
	    "status", (int)r->status, "text", r->text, (size_t)r->textlen,
	    "new_conn", (int)r->new_conn, "recs", recs);
	return o;
}

static int
read_batch(struct proto_batch *b)
{
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 len;
	void	*p;

	memset(b, 0, sizeof(*b));
	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		if ((p = reallocarray(b->recs, b->n + 1, sizeof(*b->recs)))
		    == NULL)
			return -1;
		b->recs = p;
		b->recs[b->n].id = b->n + 1;
		if ((b->recs[b->n].ptr = strdup(line)) == NULL)
			return -1;
		b->recs[b->n].len = (size_t)len;
		b->n++;
	}
	free(line);
	return b->n > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	struct transport	 t;
	struct hook		 h;
	struct proto_batch	 b;
	struct proto_result	 r;
	json_t			*o;
	char			 err[256], *s;
	long			 batches = 1, i;
	int			 ch, flags = 0;

	memset(&t, 0, sizeof(t));
	memset(&h, 0, sizeof(h));
	h.name = "amqpsend";
	h.exchange = "";
	h.routing_key = "amqpsend";
	h.mandatory = 1;
	h.persistent = 1;
	h.tls_verify = 1;
	h.timeout_ms = 5000;
	h.transport = TRANSPORT_AMQP;
	while ((ch = getopt(argc, argv, "b:C:e:Fk:LMt:")) != -1) {
		switch (ch) {
		case 'b': batches = atol(optarg); break;
		case 'C': h.ca_file = optarg; break;
		case 'e': h.exchange = optarg; break;
		case 'F': flags |= PROTO_F_FRESH; break;
		case 'k': h.routing_key = optarg; break;
		case 'L': flags |= PROTO_F_LAST; break;
		case 'M': h.mandatory = 0; break;
		case 't': h.timeout_ms = strtoull(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (optind + 1 != argc)
		return 2;
	h.url = argv[optind];
	if (transport_configure(&t, &h, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (read_batch(&b) == -1) {
		fprintf(stderr, "no records\n");
		return 1;
	}
	b.flags = (uint8_t)flags;
	for (i = 0; i < batches; i++) {
		memset(&r, 0, sizeof(r));
		transport_deliver(&t, &h, &b, &r);
		o = result_json(&r);
		s = json_dumps(o, JSON_COMPACT);
		printf("%s\n", s);
		fflush(stdout);
		free(s);
		json_decref(o);
	}
	transport_close(&t);
	for (i = 0; i < (long)b.n; i++)
		free((char *)(uintptr_t)b.recs[i].ptr);
	free(b.recs);
	return 0;
}
