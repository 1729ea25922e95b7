/*
 * tickets: TLS session-ticket keys that survive a restart.
 *
 * OpenSSL's default ticket keys are random per process, so after a manager
 * restart every agent must make a full mutual-TLS handshake (about twice the
 * server CPU of a resumption) at once: the reconnect storm.  These keys are
 * derived instead from a secret of the CA key (ca_derive()) and the period of
 * the wall clock (TICKET_PERIOD_S), so a restarted manager, or a second
 * manager node with the same CA, accepts the tickets it handed out before.
 *
 * Tickets are issued with the current period's key and accepted with the
 * previous, current and next period's (clock differences between nodes);
 * one under an older key is renewed.  Reading ca.key gives the ticket keys,
 * but whoever has ca.key can issue agent certificates anyway.
 */
#ifndef VIGIL_TICKETS_H
#define VIGIL_TICKETS_H

#include <stdint.h>

#include <openssl/ssl.h>

#define TICKET_PERIOD_S (24 * 3600)
/* session lifetime: a ticket is good this long after it was issued */
#define TICKET_LIFETIME_S (24 * 3600)
/* a kept-alive connection gets a fresh ticket when its last is this old */
#define TICKET_REFRESH_S (6 * 3600)

struct ticket_slot {
	int64_t period; /* -1: unused */
	unsigned char name[16];
	unsigned char aes[32];
	unsigned char mac[32];
};

struct ticket_keys {
	unsigned char secret[32];
	char label[32];
	EVP_CIPHER *cipher;
	struct ticket_slot slot[3]; /* previous, current, next period */
	uint64_t issued, resumed, renewed, unknown;
};

/* Derives tk's secret from the CA key; label keeps listeners' tickets apart. */
int tickets_init(struct ticket_keys *tk, EVP_PKEY *ca_key, const char *label);
void tickets_clear(struct ticket_keys *tk);
/* Makes ctx use tk (which must outlive ctx) and TICKET_LIFETIME_S. */
int tickets_attach(struct ticket_keys *tk, SSL_CTX *ctx);
/* The keys of the period containing wall_s (tests); 0 or -1. */
int tickets_slot_for(struct ticket_keys *tk, int64_t wall_s, struct ticket_slot *out);

#endif
