/*
 * The AMQP 0-9-1 transport (librabbitmq): each record of a batch is one
 * basic.publish on a channel in confirm mode, and counts as delivered
 * only once the broker has acknowledged it. An unroutable message
 * (mandatory) comes back as basic.return before its ack and is refused
 * for good; a nack, a closed channel or connection, or no answer within
 * the hook's timeout leave the records unconfirmed for another attempt.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <openssl/ssl.h>

#include "body.h"
#include "member.h"
#include "sign.h"
#include "transport.h"
#include "util.h"

#define AMQP_CHANNEL	1
#define AMQP_FRAME_MAX	131072
#define SHORTSTR_MAX	255
#define TYPE_MAX	SHORTSTR_MAX

static const char nacked[] = "the broker did not take the message (nack)";

/*
 * librabbitmq writes without a deadline, and a broker short of memory
 * or disk stops reading from publishers: an alarm at the hook's timeout
 * shuts the socket down, so that a publish fails instead of hanging.
 */
static volatile sig_atomic_t	watchdog_fd = -1;
static volatile sig_atomic_t	watchdog_fired;

/* What became of one record of the batch being delivered. */
struct slot {
	uint8_t		 class;		/* 0: not confirmed yet */
	uint8_t		 returned;	/* came back unroutable */
	uint16_t	 code;
	uint16_t	 textlen;
	const char	*text;
	char		*owned;		/* text, when it is the slot's */
};

struct amqp {
	char			*url;		/* amqp_parse_url's copy */
	struct amqp_connection_info info;
	amqp_connection_state_t	 conn;		/* NULL: not connected */
	uint64_t		 next_tag;	/* of the next publish */
	struct slot		*slots;
	size_t			 nslots;
	struct proto_rec	*recs;
	amqp_table_entry_t	*hdrs;		/* the hook's, and signing */
	size_t			 nhdrs;
	/* Why the unconfirmed records were not: for them all. */
	uint16_t		 failcode;
	char			 failtext[PROTO_ANSWER_MAX];
	int			 timed_out;
	/* A basic.return whose content is being read. */
	int			 returning;
	uint64_t		 ret_left;
	uint16_t		 ret_code;
	char			 ret_text[SHORTSTR_MAX + 1];
};

/* url's parts, in a copy the caller frees; NULL with a message in err. */
static char *
parse_url(const struct hook *h, struct amqp_connection_info *info,
    char *err, size_t errlen)
{
	char	*copy, *shown;

	if ((copy = strdup(h->url)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	amqp_default_connection_info(info);
	if (amqp_parse_url(copy, info) != AMQP_STATUS_OK) {
		shown = config_url_shown(h->url);
		snprintf(err, errlen, "%s: not an AMQP url "
		    "(amqp://USER:PASS@HOST:PORT/VHOST or amqps://...)",
		    shown != NULL ? shown : "the url");
		free(shown);
		free(copy);
		return NULL;
	}
	return copy;
}

/* Names and values the protocol carries as short strings fit one. */
static int
check_lengths(const struct hook *h, char *err, size_t errlen)
{
	size_t	 i;

	if (h->exchange != NULL && strlen(h->exchange) > SHORTSTR_MAX) {
		snprintf(err, errlen, "exchange longer than %d bytes",
		    SHORTSTR_MAX);
		return -1;
	}
	if (h->routing_key != NULL && strlen(h->routing_key) > SHORTSTR_MAX) {
		snprintf(err, errlen, "routing_key longer than %d bytes",
		    SHORTSTR_MAX);
		return -1;
	}
	for (i = 0; i < h->nheaders; i++) {
		if (strlen(h->headers[i].name) > SHORTSTR_MAX) {
			snprintf(err, errlen, "header name %.32s... longer "
			    "than %d bytes", h->headers[i].name, SHORTSTR_MAX);
			return -1;
		}
	}
	return 0;
}

static int
amqp_check(const struct hook *h, char *err, size_t errlen)
{
	struct amqp_connection_info	 info;
	char				*copy;

	if ((copy = parse_url(h, &info, err, errlen)) == NULL)
		return -1;
	free(copy);
	if ((h->client_cert == NULL) != (h->client_key == NULL)) {
		snprintf(err, errlen, "client_cert and client_key go "
		    "together");
		return -1;
	}
	return check_lengths(h, err, errlen);
}

static void *
amqp_open(char *err, size_t errlen)
{
	struct amqp	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		snprintf(err, errlen, "out of memory");
	return a;
}

/* Drops the connection; gracefully only when it is in a state to. */
static void
disconnect(struct amqp *a, int graceful)
{
	if (a->conn == NULL)
		return;
	if (graceful) {
		amqp_channel_close(a->conn, AMQP_CHANNEL, AMQP_REPLY_SUCCESS);
		amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
	}
	amqp_destroy_connection(a->conn);
	a->conn = NULL;
}

static int
amqp_configure(void *state, const struct hook *h, char *err, size_t errlen)
{
	struct amqp			*a = state;
	struct amqp_connection_info	 info;
	amqp_table_entry_t		*hdrs;
	char				*copy;

	if (amqp_check(h, err, errlen) == -1 ||
	    (copy = parse_url(h, &info, err, errlen)) == NULL)
		return -1;
	if ((hdrs = calloc(h->nheaders + 3, sizeof(*hdrs))) == NULL) {
		free(copy);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The url or TLS settings may have changed: connect anew. */
	disconnect(a, 1);
	free(a->url);
	free(a->hdrs);
	a->url = copy;
	a->info = info;
	a->hdrs = hdrs;
	return 0;
}

static void
amqp_close(void *state)
{
	struct amqp	*a = state;
	size_t		 i;

	if (a == NULL)
		return;
	disconnect(a, 1);
	for (i = 0; i < a->nslots; i++)
		free(a->slots[i].owned);
	free(a->slots);
	free(a->recs);
	free(a->hdrs);
	free(a->url);
	free(a);
}

/* Why the broker or the library refused an RPC, into a->failtext. */
static void
rpc_failed(struct amqp *a, const char *what, amqp_rpc_reply_t rep)
{
	amqp_connection_close_t	*cc;
	amqp_channel_close_t	*ch;
	size_t			 n = sizeof(a->failtext);

	a->failcode = 0;
	switch (rep.reply_type) {
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		snprintf(a->failtext, n, "%s: %s", what,
		    amqp_error_string2(rep.library_error));
		return;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (rep.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			cc = rep.reply.decoded;
			a->failcode = cc->reply_code;
			snprintf(a->failtext, n, "%s: %.*s", what,
			    (int)cc->reply_text.len,
			    (char *)cc->reply_text.bytes);
			return;
		}
		if (rep.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			ch = rep.reply.decoded;
			a->failcode = ch->reply_code;
			snprintf(a->failtext, n, "%s: %.*s", what,
			    (int)ch->reply_text.len,
			    (char *)ch->reply_text.bytes);
			return;
		}
		snprintf(a->failtext, n, "%s: the broker answered method "
		    "%08x", what, (unsigned)rep.reply.id);
		return;
	default:
		snprintf(a->failtext, n, "%s: no answer", what);
	}
}

static struct timeval
ms_tv(uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

static int
tls_setup(struct amqp *a, const struct hook *h, amqp_socket_t *sock)
{
	SSL_CTX	*ctx;

	amqp_ssl_socket_set_verify_peer(sock, h->tls_verify);
	amqp_ssl_socket_set_verify_hostname(sock, h->tls_verify);
	if (h->ca_file != NULL) {
		if (amqp_ssl_socket_set_cacert(sock, h->ca_file) !=
		    AMQP_STATUS_OK) {
			snprintf(a->failtext, sizeof(a->failtext),
			    "ca_file %s: cannot load it", h->ca_file);
			return -1;
		}
	} else if ((ctx = amqp_ssl_socket_get_context(sock)) != NULL)
		SSL_CTX_set_default_verify_paths(ctx);
	if (h->client_cert != NULL && amqp_ssl_socket_set_key(sock,
	    h->client_cert, h->client_key) != AMQP_STATUS_OK) {
		snprintf(a->failtext, sizeof(a->failtext),
		    "client_cert %s, client_key %s: cannot load them",
		    h->client_cert, h->client_key);
		return -1;
	}
	return 0;
}

/* Opens, logs in, and puts channel 1 in confirm mode; 0 or -1. */
static int
connect_broker(struct amqp *a, const struct hook *h)
{
	struct amqp_connection_info	*in = &a->info;
	amqp_socket_t			*sock;
	struct timeval			 tv = ms_tv(h->timeout_ms);
	amqp_rpc_reply_t		 rep;
	int				 rc;

	a->failcode = 0;
	if ((a->conn = amqp_new_connection()) == NULL) {
		snprintf(a->failtext, sizeof(a->failtext), "out of memory");
		return -1;
	}
	amqp_set_handshake_timeout(a->conn, &tv);
	amqp_set_rpc_timeout(a->conn, &tv);
	sock = in->ssl ? amqp_ssl_socket_new(a->conn) :
	    amqp_tcp_socket_new(a->conn);
	if (sock == NULL) {
		snprintf(a->failtext, sizeof(a->failtext), "no socket");
		goto fail;
	}
	if (in->ssl && tls_setup(a, h, sock) == -1)
		goto fail;
	if ((rc = amqp_socket_open_noblock(sock, in->host, in->port,
	    &tv)) != AMQP_STATUS_OK) {
		snprintf(a->failtext, sizeof(a->failtext), "%s:%d: %s",
		    in->host, in->port, amqp_error_string2(rc));
		goto fail;
	}
	rep = amqp_login(a->conn, in->vhost, 0, AMQP_FRAME_MAX, 0,
	    AMQP_SASL_METHOD_PLAIN, in->user, in->password);
	if (rep.reply_type != AMQP_RESPONSE_NORMAL) {
		rpc_failed(a, "login", rep);
		goto fail;
	}
	amqp_channel_open(a->conn, AMQP_CHANNEL);
	if ((rep = amqp_get_rpc_reply(a->conn)).reply_type !=
	    AMQP_RESPONSE_NORMAL) {
		rpc_failed(a, "channel.open", rep);
		goto fail;
	}
	amqp_confirm_select(a->conn, AMQP_CHANNEL);
	if ((rep = amqp_get_rpc_reply(a->conn)).reply_type !=
	    AMQP_RESPONSE_NORMAL) {
		rpc_failed(a, "confirm.select", rep);
		goto fail;
	}
	a->next_tag = 1;
	return 0;
fail:
	disconnect(a, 0);
	return -1;
}

static void
on_alarm(int sig)
{
	int	 saved = errno;

	(void)sig;
	if (watchdog_fd != -1) {
		shutdown(watchdog_fd, SHUT_RDWR);
		watchdog_fired = 1;
	}
	errno = saved;
}

/* The alarm for fd in ms (at least 1); 0 or -1. */
static int
watchdog_arm(int fd, uint64_t ms)
{
	struct sigaction	 sa;
	struct itimerval	 it;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		return -1;
	watchdog_fired = 0;
	watchdog_fd = fd;
	memset(&it, 0, sizeof(it));
	it.it_value = ms_tv(ms > 0 ? ms : 1);
	return setitimer(ITIMER_REAL, &it, NULL);
}

/* Was the alarm off before it rang? */
static int
watchdog_disarm(void)
{
	struct itimerval	 it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	watchdog_fd = -1;
	return !watchdog_fired;
}

/* Room for n slots and records, the slots cleared; 0 or -1. */
static int
reset_slots(struct amqp *a, size_t n)
{
	struct slot		*s;
	struct proto_rec	*r;
	size_t			 i;

	for (i = 0; i < a->nslots; i++)
		free(a->slots[i].owned);
	if (n > a->nslots) {
		if ((s = reallocarray(a->slots, n, sizeof(*s))) == NULL)
			return -1;
		a->slots = s;
		if ((r = reallocarray(a->recs, n, sizeof(*r))) == NULL)
			return -1;
		a->recs = r;
		a->nslots = n;
	}
	memset(a->slots, 0, a->nslots * sizeof(*a->slots));
	return 0;
}

static void
settle(struct slot *s, uint8_t class, uint16_t code, const char *text)
{
	/* Never NULL: the text is copied with memcpy, even when empty. */
	if (text == NULL)
		text = "";
	s->class = class;
	s->code = code;
	s->text = text;
	s->textlen = (uint16_t)strlen(text);
}

static void
add_header(struct amqp *a, const char *name, const char *value)
{
	a->hdrs[a->nhdrs].key = amqp_cstring_bytes(name);
	a->hdrs[a->nhdrs].value.kind = AMQP_FIELD_KIND_UTF8;
	a->hdrs[a->nhdrs].value.value.bytes = amqp_cstring_bytes(value);
	a->nhdrs++;
}

/*
 * The hook's headers and, with a signing key, the signing headers of one
 * message, which take the place of any of the hook's of the same name;
 * their values in sh, which must outlive the publish.
 */
static int
set_headers(struct amqp *a, const struct hook *h, uint64_t id,
    amqp_bytes_t body, struct sign_headers *sh)
{
	static const char	*names[3] = {
		"webhook-id", "webhook-timestamp", "webhook-signature"
	};
	size_t			 i;
	int			 signs = h->signing_key != NULL;

	a->nhdrs = 0;
	for (i = 0; i < h->nheaders; i++) {
		if (signs && (strcasecmp(h->headers[i].name, names[0]) == 0 ||
		    strcasecmp(h->headers[i].name, names[1]) == 0 ||
		    strcasecmp(h->headers[i].name, names[2]) == 0))
			continue;
		add_header(a, h->headers[i].name, h->headers[i].value);
	}
	if (!signs)
		return 0;
	if (sign_headers(h->signing_key, h->signing_key_len, id, 1,
	    body.bytes, body.len, sh) == -1)
		return -1;
	add_header(a, names[0], sh->id);
	add_header(a, names[1], sh->ts);
	add_header(a, names[2], sh->sig);
	return 0;
}

/* basic.publish of record i; 0, or -1 with a->failtext. */
static int
publish(struct amqp *a, const struct hook *h, const struct proto_batch_rec
    *rec)
{
	amqp_basic_properties_t	 p;
	struct sign_headers	 sh;
	amqp_bytes_t		 body;
	char			 msgid[24], type[TYPE_MAX];
	char			*proj;
	size_t			 len;
	ssize_t			 tlen;
	int			 rc;

	proj = h->has_log_parameters ?
	    body_project(h, rec->ptr, rec->len, &len) : NULL;
	body.bytes = proj != NULL ? proj : (void *)(uintptr_t)rec->ptr;
	body.len = proj != NULL ? len : rec->len;
	memset(&p, 0, sizeof(p));
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG |
	    AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
	    AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_APP_ID_FLAG;
	p.content_type = amqp_cstring_bytes("application/json");
	p.delivery_mode = h->persistent ? 2 : 1;
	snprintf(msgid, sizeof(msgid), "%" PRIu64, rec->id);
	p.message_id = amqp_cstring_bytes(msgid);
	p.timestamp = (uint64_t)time(NULL);
	p.app_id = amqp_cstring_bytes("spoold");
	if ((tlen = record_member(rec->ptr, rec->len, "type", type,
	    sizeof(type))) >= 0) {
		p._flags |= AMQP_BASIC_TYPE_FLAG;
		p.type.bytes = type;
		p.type.len = (size_t)tlen;
	}
	if (set_headers(a, h, rec->id, body, &sh) == -1) {
		free(proj);
		snprintf(a->failtext, sizeof(a->failtext),
		    "cannot sign the message");
		return -1;
	}
	if (a->nhdrs > 0) {
		p._flags |= AMQP_BASIC_HEADERS_FLAG;
		p.headers.num_entries = (int)a->nhdrs;
		p.headers.entries = a->hdrs;
	}
	rc = amqp_basic_publish(a->conn, AMQP_CHANNEL,
	    amqp_cstring_bytes(h->exchange != NULL ? h->exchange : ""),
	    amqp_cstring_bytes(h->routing_key != NULL ? h->routing_key : ""),
	    h->mandatory ? 1 : 0, 0, &p, body);
	free(proj);
	if (rc != AMQP_STATUS_OK) {
		a->failcode = 0;
		snprintf(a->failtext, sizeof(a->failtext), "basic.publish: %s",
		    amqp_error_string2(rc));
		return -1;
	}
	a->next_tag++;
	return 0;
}

/* An ack or nack of tag, or of all up to it; returns how many it settled. */
static size_t
confirm(struct amqp *a, uint64_t first, size_t npub, uint64_t tag,
    int multiple, uint8_t class)
{
	struct slot	*s;
	size_t		 i, n = 0;

	for (i = 0; i < npub; i++) {
		s = &a->slots[i];
		if (s->class != 0 || first + i > tag ||
		    (!multiple && first + i != tag))
			continue;
		n++;
		/* The ack that follows a return does not deliver it. */
		if (s->returned)
			s->class = PROTO_CLASS_PERMANENT;
		else if (class == PROTO_CLASS_DELIVERED)
			settle(s, class, 0, NULL);
		else
			settle(s, class, 0, nacked);
	}
	return n;
}

/* The returned message whose properties these are is refused for good. */
static void
returned(struct amqp *a, const struct proto_batch *b, size_t npub,
    const amqp_basic_properties_t *p)
{
	struct slot	*s;
	char		 msgid[24];
	uint64_t	 id;
	size_t		 i;

	if (!(p->_flags & AMQP_BASIC_MESSAGE_ID_FLAG) ||
	    p->message_id.len >= sizeof(msgid))
		return;
	memcpy(msgid, p->message_id.bytes, p->message_id.len);
	msgid[p->message_id.len] = '\0';
	id = strtoull(msgid, NULL, 10);
	for (i = 0; i < npub; i++) {
		if (id != b->recs[i].id)
			continue;
		s = &a->slots[i];
		s->returned = 1;
		s->code = a->ret_code;
		free(s->owned);
		s->owned = strdup(a->ret_text);
		s->text = s->owned != NULL ? s->owned : "";
		s->textlen = (uint16_t)strlen(s->text);
		if (s->textlen > PROTO_ANSWER_MAX)
			s->textlen = PROTO_ANSWER_MAX;
		return;
	}
}

/* A broker's close of the channel or connection, into a->failtext. */
static void
closed_by_broker(struct amqp *a, const char *what, uint16_t code,
    amqp_bytes_t text)
{
	a->failcode = code;
	snprintf(a->failtext, sizeof(a->failtext), "%s: %u %.*s", what, code,
	    (int)text.len, (char *)text.bytes);
}

/*
 * One frame while confirms are awaited: returns how many records it
 * settled, or -1 when the channel is gone (a->failtext says why).
 */
static ssize_t
on_frame(struct amqp *a, const struct proto_batch *b, uint64_t first,
    size_t npub, const amqp_frame_t *f)
{
	const amqp_basic_ack_t		*ack;
	const amqp_basic_nack_t		*nack;
	const amqp_basic_return_t	*ret;
	const amqp_channel_close_t	*ch;
	const amqp_connection_close_t	*cc;
	size_t				 n;

	if (f->frame_type == AMQP_FRAME_HEADER && a->returning) {
		returned(a, b, npub, f->payload.properties.decoded);
		a->ret_left = f->payload.properties.body_size;
		a->returning = a->ret_left > 0;
		return 0;
	}
	if (f->frame_type == AMQP_FRAME_BODY && a->returning) {
		n = f->payload.body_fragment.len;
		a->ret_left -= n < a->ret_left ? n : a->ret_left;
		a->returning = a->ret_left > 0;
		return 0;
	}
	if (f->frame_type != AMQP_FRAME_METHOD)
		return 0;
	switch (f->payload.method.id) {
	case AMQP_BASIC_ACK_METHOD:
		ack = f->payload.method.decoded;
		return (ssize_t)confirm(a, first, npub, ack->delivery_tag,
		    ack->multiple, PROTO_CLASS_DELIVERED);
	case AMQP_BASIC_NACK_METHOD:
		nack = f->payload.method.decoded;
		return (ssize_t)confirm(a, first, npub, nack->delivery_tag,
		    nack->multiple, PROTO_CLASS_TRANSIENT);
	case AMQP_BASIC_RETURN_METHOD:
		ret = f->payload.method.decoded;
		a->returning = 1;
		a->ret_left = 0;
		a->ret_code = ret->reply_code;
		snprintf(a->ret_text, sizeof(a->ret_text), "%.*s",
		    (int)ret->reply_text.len, (char *)ret->reply_text.bytes);
		return 0;
	case AMQP_CHANNEL_CLOSE_METHOD:
		ch = f->payload.method.decoded;
		closed_by_broker(a, "channel closed", ch->reply_code,
		    ch->reply_text);
		return -1;
	case AMQP_CONNECTION_CLOSE_METHOD:
		cc = f->payload.method.decoded;
		closed_by_broker(a, "connection closed", cc->reply_code,
		    cc->reply_text);
		return -1;
	}
	return 0;
}

/* Waits for the confirms of npub messages; 0, or -1 with a->failtext. */
static int
await_confirms(struct amqp *a, const struct hook *h,
    const struct proto_batch *b, uint64_t first, size_t npub, uint64_t t0)
{
	amqp_frame_t	 f;
	struct timeval	 tv;
	uint64_t	 now;
	size_t		 left = npub;
	ssize_t		 n;
	int		 rc;

	a->returning = 0;
	while (left > 0) {
		if ((now = mono_ms()) - t0 >= h->timeout_ms) {
			a->timed_out = 1;
			a->failcode = 0;
			snprintf(a->failtext, sizeof(a->failtext),
			    "no confirmation within %" PRIu64 " ms",
			    h->timeout_ms);
			return -1;
		}
		tv = ms_tv(h->timeout_ms - (now - t0));
		rc = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (rc == AMQP_STATUS_TIMEOUT)
			continue;
		if (rc != AMQP_STATUS_OK) {
			a->failcode = 0;
			snprintf(a->failtext, sizeof(a->failtext),
			    "awaiting confirms: %s", amqp_error_string2(rc));
			return -1;
		}
		n = f.channel == AMQP_CHANNEL || f.channel == 0 ?
		    on_frame(a, b, first, npub, &f) : 0;
		amqp_maybe_release_buffers(a->conn);
		if (n == -1)
			return -1;
		left -= (size_t)n;
	}
	return 0;
}

/*
 * The batch's class is its records' most common one; the others are
 * listed in r->recs.
 */
static void
fill_result(struct amqp *a, const struct proto_batch *b,
    struct proto_result *r)
{
	size_t		 count[4] = { 0, 0, 0, 0 }, i;
	uint8_t		 class = PROTO_CLASS_DELIVERED;
	struct slot	*s;

	for (i = 0; i < b->n; i++)
		count[a->slots[i].class]++;
	if (count[PROTO_CLASS_TRANSIENT] > count[class])
		class = PROTO_CLASS_TRANSIENT;
	if (count[PROTO_CLASS_PERMANENT] > count[class])
		class = PROTO_CLASS_PERMANENT;
	r->class = class;
	r->nrecs = 0;
	r->recs = a->recs;
	for (i = 0; i < b->n; i++) {
		s = &a->slots[i];
		if (s->class != class) {
			a->recs[r->nrecs].index = (uint32_t)i;
			a->recs[r->nrecs].class = s->class;
			a->recs[r->nrecs].code = s->code;
			a->recs[r->nrecs].textlen = s->textlen;
			a->recs[r->nrecs].text = s->text;
			r->nrecs++;
		} else if (r->textlen == 0 && s->textlen > 0) {
			r->status = s->code;
			r->textlen = (uint16_t)snprintf(r->text,
			    sizeof(r->text), "%.*s", (int)s->textlen,
			    s->text);
		}
	}
}

/* Every record not confirmed waits for another attempt, for this reason. */
static void
unconfirmed(struct amqp *a, const struct proto_batch *b)
{
	size_t	 i;

	for (i = 0; i < b->n; i++)
		if (a->slots[i].class == 0)
			settle(&a->slots[i], PROTO_CLASS_TRANSIENT,
			    a->failcode, a->failtext);
}

/*
 * One attempt, on the connection there is or a new one: 0 when every
 * record was published and the broker answered for each, -1 (with
 * a->failtext) otherwise.
 */
static int
attempt(struct amqp *a, const struct hook *h, const struct proto_batch *b,
    uint64_t t0, struct proto_result *r)
{
	uint64_t	 first, elapsed;
	size_t		 npub;

	if (a->conn == NULL) {
		if (connect_broker(a, h) == -1)
			return -1;
		r->new_conn = 1;
	}
	first = a->next_tag;
	elapsed = mono_ms() - t0;
	if (watchdog_arm(amqp_get_sockfd(a->conn), elapsed < h->timeout_ms ?
	    h->timeout_ms - elapsed : 1) == -1) {
		snprintf(a->failtext, sizeof(a->failtext), "no alarm: %s",
		    strerror(errno));
		return -1;
	}
	for (npub = 0; npub < b->n; npub++)
		if (publish(a, h, &b->recs[npub]) == -1)
			break;
	if (!watchdog_disarm()) {
		a->timed_out = 1;
		a->failcode = 0;
		snprintf(a->failtext, sizeof(a->failtext), "could not publish "
		    "within %" PRIu64 " ms: is the broker blocking publishers?",
		    h->timeout_ms);
		return -1;
	}
	if (npub < b->n)
		return -1;
	return await_confirms(a, h, b, first, npub, t0);
}

/* Has the broker answered for any record of the batch? */
static int
answered(const struct amqp *a, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (a->slots[i].class != 0 || a->slots[i].returned)
			return 1;
	return 0;
}

static void
amqp_deliver(void *state, const struct hook *h, const struct proto_batch *b,
    struct proto_result *r)
{
	struct amqp	*a = state;
	uint64_t	 t0 = mono_ms();
	int		 kept, rv;

	r->status = r->error = r->retry_after = 0;
	r->new_conn = 0;
	r->nrecs = 0;
	r->textlen = 0;
	if (reset_slots(a, b->n) == -1) {
		r->class = PROTO_CLASS_TRANSIENT;
		r->textlen = (uint16_t)snprintf(r->text, sizeof(r->text),
		    "out of memory");
		goto done;
	}
	a->failtext[0] = '\0';
	a->failcode = 0;
	a->timed_out = 0;
	if (b->flags & PROTO_F_FRESH)
		disconnect(a, 1);
	kept = a->conn != NULL;
	rv = attempt(a, h, b, t0, r);
	/*
	 * A connection kept from an earlier batch may have died while idle
	 * (the broker restarted): once more on a new one, before the
	 * records wait for their next attempt.
	 */
	if (rv == -1 && kept && !a->timed_out && !answered(a, b->n)) {
		disconnect(a, 0);
		rv = attempt(a, h, b, mono_ms(), r);
	}
	unconfirmed(a, b);
	if (rv == -1)
		disconnect(a, 0);
	else if (b->flags & PROTO_F_LAST)
		disconnect(a, 1);
	fill_result(a, b, r);
done:
	r->elapsed_ms = (uint32_t)(mono_ms() - t0);
}

const struct transport_ops transport_amqp = {
	.name = "amqp",
	.check = amqp_check,
	.open = amqp_open,
	.configure = amqp_configure,
	.deliver = amqp_deliver,
	.close = amqp_close,
};
