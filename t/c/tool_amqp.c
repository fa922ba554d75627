/*
 * The AMQP tests' client: declares, binds, purges and counts queues, and
 * consumes messages, printing each as one JSON line with its properties,
 * so that the tests can compare what the broker holds with what spoold
 * acknowledged.
 *
 *   amqp URL declare QUEUE [max-length N [overflow reject-publish]]
 *   amqp URL bind QUEUE EXCHANGE KEY
 *   amqp URL purge QUEUE
 *   amqp URL count QUEUE
 *   amqp URL get QUEUE N TIMEOUT_S
 *   amqp URL delete-exchange EXCHANGE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <jansson.h>

static void
die_reply(const char *what, amqp_rpc_reply_t r)
{
	if (r.reply_type == AMQP_RESPONSE_NORMAL)
		return;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
		fprintf(stderr, "%s: %s\n", what,
		    amqp_error_string2(r.library_error));
	else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
		amqp_channel_close_t *c = r.reply.decoded;
		fprintf(stderr, "%s: %u %.*s\n", what, c->reply_code,
		    (int)c->reply_text.len, (char *)c->reply_text.bytes);
	} else
		fprintf(stderr, "%s: failed\n", what);
	exit(1);
}

static amqp_connection_state_t
connect_url(const char *url)
{
	struct amqp_connection_info	 ci;
	amqp_connection_state_t		 c;
	amqp_socket_t			*s;
	char				*copy = strdup(url);

	if (copy == NULL || amqp_parse_url(copy, &ci) != AMQP_STATUS_OK) {
		fprintf(stderr, "%s: bad url\n", url);
		exit(2);
	}
	c = amqp_new_connection();
	if ((s = amqp_tcp_socket_new(c)) == NULL ||
	    amqp_socket_open(s, ci.host, ci.port) != AMQP_STATUS_OK) {
		fprintf(stderr, "%s: cannot connect\n", url);
		exit(1);
	}
	die_reply("login", amqp_login(c, ci.vhost, 0, 131072, 0,
	    AMQP_SASL_METHOD_PLAIN, ci.user, ci.password));
	amqp_channel_open(c, 1);
	die_reply("channel.open", amqp_get_rpc_reply(c));
	free(copy);
	return c;
}

static json_t *
bytes_json(amqp_bytes_t b)
{
	return json_stringn(b.bytes, b.len);
}

static json_t *
headers_json(const amqp_table_t *t)
{
	json_t	*o = json_object();
	char	 key[256];
	int	 i;

	for (i = 0; i < t->num_entries; i++) {
		const amqp_table_entry_t *e = &t->entries[i];

		snprintf(key, sizeof(key), "%.*s", (int)e->key.len,
		    (char *)e->key.bytes);
		if (e->value.kind == AMQP_FIELD_KIND_UTF8 ||
		    e->value.kind == AMQP_FIELD_KIND_BYTES)
			json_object_set_new(o, key,
			    bytes_json(e->value.value.bytes));
		else
			json_object_set_new(o, key, json_string("?"));
	}
	return o;
}

static void
print_message(const amqp_envelope_t *env)
{
	const amqp_basic_properties_t	*p = &env->message.properties;
	json_t				*o = json_object(), *pr = json_object();
	char				*s;

	json_object_set_new(o, "body", bytes_json(env->message.body));
	json_object_set_new(o, "routing_key", bytes_json(env->routing_key));
	json_object_set_new(o, "exchange", bytes_json(env->exchange));
	json_object_set_new(o, "redelivered",
	    json_boolean(env->redelivered));
	if (p->_flags & AMQP_BASIC_CONTENT_TYPE_FLAG)
		json_object_set_new(pr, "content_type",
		    bytes_json(p->content_type));
	if (p->_flags & AMQP_BASIC_DELIVERY_MODE_FLAG)
		json_object_set_new(pr, "delivery_mode",
		    json_integer(p->delivery_mode));
	if (p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG)
		json_object_set_new(pr, "message_id",
		    bytes_json(p->message_id));
	if (p->_flags & AMQP_BASIC_TYPE_FLAG)
		json_object_set_new(pr, "type", bytes_json(p->type));
	if (p->_flags & AMQP_BASIC_TIMESTAMP_FLAG)
		json_object_set_new(pr, "timestamp",
		    json_integer((json_int_t)p->timestamp));
	if (p->_flags & AMQP_BASIC_APP_ID_FLAG)
		json_object_set_new(pr, "app_id", bytes_json(p->app_id));
	if (p->_flags & AMQP_BASIC_HEADERS_FLAG) {
		json_object_set_new(pr, "headers", headers_json(&p->headers));
		/* A name twice in the table is once in the object. */
		json_object_set_new(o, "nheaders",
		    json_integer(p->headers.num_entries));
	}
	json_object_set_new(o, "properties", pr);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

static int
get(amqp_connection_state_t c, const char *queue, long n, long secs)
{
	amqp_envelope_t	 env;
	amqp_rpc_reply_t r;
	struct timeval	 tv;
	long		 got = 0;

	amqp_basic_qos(c, 1, 0, 500, 0);
	die_reply("basic.qos", amqp_get_rpc_reply(c));
	amqp_basic_consume(c, 1, amqp_cstring_bytes(queue), amqp_empty_bytes,
	    0, 0, 0, amqp_empty_table);
	die_reply("basic.consume", amqp_get_rpc_reply(c));
	tv.tv_sec = secs;
	tv.tv_usec = 0;
	while (got < n) {
		amqp_maybe_release_buffers(c);
		r = amqp_consume_message(c, &env, &tv, 0);
		if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
		    r.library_error == AMQP_STATUS_TIMEOUT)
			break;
		die_reply("consume", r);
		print_message(&env);
		amqp_basic_ack(c, 1, env.delivery_tag, 0);
		amqp_destroy_envelope(&env);
		got++;
	}
	fflush(stdout);
	return 0;
}

static void
declare(amqp_connection_state_t c, int argc, char **argv)
{
	amqp_table_entry_t	 e[2];
	amqp_table_t		 args = { 0, e };
	int			 i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "max-length") == 0) {
			e[args.num_entries].key =
			    amqp_cstring_bytes("x-max-length");
			e[args.num_entries].value.kind = AMQP_FIELD_KIND_I64;
			e[args.num_entries].value.value.i64 =
			    atoll(argv[i + 1]);
		} else if (strcmp(argv[i], "overflow") == 0) {
			e[args.num_entries].key =
			    amqp_cstring_bytes("x-overflow");
			e[args.num_entries].value.kind = AMQP_FIELD_KIND_UTF8;
			e[args.num_entries].value.value.bytes =
			    amqp_cstring_bytes(argv[i + 1]);
		} else
			continue;
		if (++args.num_entries == 2)
			break;
	}
	amqp_queue_declare(c, 1, amqp_cstring_bytes(argv[0]), 0, 1, 0, 0,
	    args);
	die_reply("queue.declare", amqp_get_rpc_reply(c));
}

static void
count(amqp_connection_state_t c, const char *queue)
{
	amqp_queue_declare_ok_t	*ok;

	ok = amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 1, 0, 0, 0,
	    amqp_empty_table);
	die_reply("queue.declare", amqp_get_rpc_reply(c));
	printf("%u\n", ok->message_count);
}

int
main(int argc, char **argv)
{
	amqp_connection_state_t	 c;
	const char		*cmd;

	if (argc < 4) {
		fprintf(stderr, "usage: amqp URL COMMAND ARGS\n");
		return 2;
	}
	c = connect_url(argv[1]);
	cmd = argv[2];
	if (strcmp(cmd, "declare") == 0)
		declare(c, argc - 3, argv + 3);
	else if (strcmp(cmd, "bind") == 0 && argc == 6) {
		amqp_queue_bind(c, 1, amqp_cstring_bytes(argv[3]),
		    amqp_cstring_bytes(argv[4]), amqp_cstring_bytes(argv[5]),
		    amqp_empty_table);
		die_reply("queue.bind", amqp_get_rpc_reply(c));
	} else if (strcmp(cmd, "purge") == 0) {
		amqp_queue_purge(c, 1, amqp_cstring_bytes(argv[3]));
		die_reply("queue.purge", amqp_get_rpc_reply(c));
	} else if (strcmp(cmd, "count") == 0)
		count(c, argv[3]);
	else if (strcmp(cmd, "delete-exchange") == 0) {
		amqp_exchange_delete(c, 1, amqp_cstring_bytes(argv[3]), 0);
		die_reply("exchange.delete", amqp_get_rpc_reply(c));
	} else if (strcmp(cmd, "get") == 0 && argc == 6)
		get(c, argv[3], atol(argv[4]), atol(argv[5]));
	else {
		fprintf(stderr, "%s: unknown command or arguments\n", cmd);
		return 2;
	}
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	return 0;
}
