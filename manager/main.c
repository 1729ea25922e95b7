/*
 * vigil-manager: start-up, the main loop and shutdown.
 *
 * One thread runs one epoll loop: both listeners, the status engine's
 * deadlines and one housekeeping tick (HOUSEKEEPING_MS) that expires
 * connections and flushes the store.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentsvc.h"
#include "api.h"
#include "events.h"
#include "jsonbody.h"
#include "log.h"
#include "mgr.h"
#include "mhealth.h"
#include "sdnotify.h"
#include "status.h"
#include "util.h"

#define HOUSEKEEPING_MS 250
#define PRUNE_EVERY_MS (3600 * 1000)
#define VIGIL_VERSION "0.1.0"

static volatile sig_atomic_t stop_requested, reload_requested;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = sig;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: vigil-manager [-c FILE] [-d DIR] [-n] [-v]\n"
		"       vigil-manager [-c FILE] [-d DIR] new-api-key | new-activation-token\n"
		"       vigil-manager [-c FILE] [-d DIR] health [--json]\n"
		"       vigil-manager --settings | --events | --version\n"
		"  -c FILE      configuration file (default /etc/vigil/manager.conf if present)\n"
		"  -d DIR       state directory (overrides [manager] state_dir)\n"
		"  -n           check the configuration, print the effective settings, exit\n"
		"  -v           debug logging\n"
		"  --settings   print the table of settings (Markdown) and exit\n"
		"  --events     print the event catalogue (Markdown) and exit\n"
		"  new-api-key, new-activation-token\n"
		"               replace the secret, print the new one once; a running\n"
		"               manager takes it on SIGHUP\n"
		"  health       check the running manager (process, ports, database,\n"
		"               certificates, disk) like a Nagios plugin: exit 0 OK,\n"
		"               1 WARNING, 2 CRITICAL, 3 UNKNOWN\n");
}

/* A new random secret into out (49 bytes), its hash into hash_r. */
static int
mgr_new_secret(char out[49], char hash_r[65])
{
	unsigned char raw[24];

	if (rand_bytes(raw, sizeof(raw)) < 0)
		return -1;
	hex_encode(raw, sizeof(raw), out);
	secret_hash(out, hash_r);
	return 0;
}

static int
mgr_load_secrets(struct mgr *m)
{
	return store_setting_get(&m->store, "api_key_sha256", m->api_key_hash,
				 sizeof(m->api_key_hash)) == 0 &&
			       store_setting_get(&m->store, "activation_token_sha256", m->token_hash,
						 sizeof(m->token_hash)) == 0
		       ? 0
		       : -1;
}

static int
mgr_secrets(struct mgr *m)
{
	char token[49], key[49];

	if (mgr_load_secrets(m) == 0)
		return 0;
	if (mgr_new_secret(token, m->token_hash) < 0 || mgr_new_secret(key, m->api_key_hash) < 0)
		return -1;
	if (store_setting_set(&m->store, "activation_token_sha256", m->token_hash) < 0 ||
	    store_setting_set(&m->store, "api_key_sha256", m->api_key_hash) < 0)
		return -1;
	/* shown once, on stdout only, never in the log */
	printf("vigil-manager: new state directory %s\n"
	       "  activation token: %s\n"
	       "  API key:          %s\n"
	       "  CA fingerprint:   sha256:%s\n"
	       "The token and the API key are shown only now; only their hashes are kept.\n",
	       m->cfg.state_dir, token, key, m->ca.fingerprint);
	fflush(stdout);
	return 0;
}

/* store_load_computers: a stored policy ID to its policy (Default if gone) */
static struct policy *
mgr_policy_of(void *ctx, int64_t id)
{
	struct mgr *m = ctx;
	struct policy *p = policy_by_id(m, id);

	return p ? p : policy_by_id(m, POLICY_DEFAULT_ID);
}

/* vigil-manager new-api-key | new-activation-token */
static int
mgr_rotate(struct mgr *m, const char *what)
{
	int is_key = strcmp(what, "new-api-key") == 0;
	const char *name = is_key ? "api_key_sha256" : "activation_token_sha256";
	char secret[49], hash[65], dbpath[PATH_MAX];
	const char *errstr = NULL;

	if (path_join(dbpath, sizeof(dbpath), m->cfg.state_dir, "vigil.db") < 0 ||
	    access(dbpath, F_OK) != 0) {
		fprintf(stderr, "vigil-manager: no database in %s; start the manager once first\n",
			m->cfg.state_dir);
		return 1;
	}
	if (store_open(&m->store, dbpath, &errstr) < 0) {
		fprintf(stderr, "vigil-manager: cannot open %s: %s\n", dbpath, errstr);
		return 1;
	}
	if (mgr_new_secret(secret, hash) < 0 || store_setting_set(&m->store, name, hash) < 0) {
		fprintf(stderr, "vigil-manager: cannot store the new secret in %s\n", dbpath);
		store_close(&m->store);
		return 1;
	}
	store_close(&m->store);
	printf("%s: %s\n"
	       "The old one no longer works once the manager reloads (kill -HUP its pid, see %s/manager.json).\n",
	       is_key ? "new API key" : "new activation token", secret, m->cfg.state_dir);
	return 0;
}

/* The activation settings from the database, or the defaults. */
static int
mgr_load_act_settings(struct mgr *m)
{
	char text[8192], err[256];
	json_t *o;
	int ret;

	act_defaults(&m->act);
	if (store_setting_get(&m->store, "activation_settings", text, sizeof(text)) < 0)
		return 0;
	o = jsonbody_object(text, strlen(text), err, sizeof(err));
	if (o == NULL)
		return -1;
	ret = act_from_json(&m->act, o, err, sizeof(err));
	json_decref(o);
	return ret;
}

static int
mgr_write_runfile(struct mgr *m)
{
	char path[PATH_MAX], data[512];
	int n;

	if (path_join(path, sizeof(path), m->cfg.state_dir, "manager.json") < 0)
		return -1;
	n = snprintf(data, sizeof(data),
		     "{\"pid\":%d,\"agent_port\":%d,\"api_port\":%d,\"address\":\"%s\","
		     "\"ca_fingerprint\":\"%s\",\"started_ms\":%lld}\n",
		     (int)getpid(), m->agent_srv.port, m->api_srv.port, m->cfg.listen_addr,
		     m->ca.fingerprint, (long long)m->started_ms);
	return file_write_atomic(path, data, (size_t)n, 0644);
}

static void
mgr_housekeeping(struct mgr *m, int64_t now, int64_t *last_prune)
{
	server_expire(&m->agent_srv, now);
	server_expire(&m->api_srv, now);
	links_expire(m, now);
	if (now - m->last_contact_flush >= m->cfg.contact_flush_interval * 1000) {
		store_flush(&m->store, 1);
		m->last_contact_flush = now;
	} else {
		store_flush(&m->store, 0);
	}
	if (now - *last_prune >= PRUNE_EVERY_MS) {
		*last_prune = now;
		lic_evaluate(m, now_ms());
		if (store_events_prune(&m->store, now_ms() - m->cfg.events_max_age_days * 86400000LL,
				       m->cfg.events_max_count) < 0)
			log_warn("store: pruning old events failed");
		/* an expired certificate is refused anyway: no need to remember it */
		if (store_certs_prune(&m->store, now_ms()) < 0)
			log_warn("store: pruning expired revoked certificates failed");
	}
}

/* vigil-manager health [--json]: prints the report, returns the exit code. */
static int
mgr_health(const struct mgr_config *cfg, int as_json)
{
	struct nagios_report r;
	struct buf out;
	json_t *o;
	char *s;

	mhealth_run(cfg, &r);
	if (as_json) {
		o = nagios_json(&r);
		s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		printf("%s\n", s ? s : "{}");
		free(s);
		json_decref(o);
	} else {
		buf_init(&out, NAGIOS_MAX_OUTPUT);
		if (nagios_format(&r, &out) == 0)
			fputs(buf_cstr(&out), stdout);
		buf_clear(&out);
	}
	return (int)nagios_worst(&r);
}

static void
mgr_run(struct mgr *m)
{
	int64_t next_hk = mono_ms(), last_prune = mono_ms();
	/* systemd's WatchdogSec=: a ping at half the period, from the housekeeping tick */
	int64_t wd_ping_ms = sdnotify_watchdog_ms() / 2, next_wd_ping = 0;

	while (!stop_requested) {
		int64_t now = mono_ms(), wake = next_hk, dl = status_next_deadline(m);
		int64_t call = contact_next(m);
		int timeout, rc;

		if (dl >= 0 && dl < wake)
			wake = dl;
		if (call >= 0 && call < wake)
			wake = call;
		timeout = wake > now ? (int)(wake - now) : 0;
		rc = loop_run_once(&m->loop, timeout);
		/* the activations of this iteration: one commit, then their answers */
		agentsvc_commit(m);
		if (rc < 0) {
			log_error("event loop: %s", strerror(errno));
			break;
		}
		if (reload_requested) {
			reload_requested = 0;
			if (mgr_load_secrets(m) == 0)
				log_info("SIGHUP: API key and activation token reloaded from the database "
					 "(other settings need a restart)");
			else
				log_warn("SIGHUP: cannot read the secrets from the database; keeping the old ones");
		}
		now = mono_ms();
		status_tick(m, now);
		contact_tick(m, now);
		if (now >= next_hk) {
			metrics_loop_lag(&m->metrics, now - next_hk);
			mgr_housekeeping(m, now, &last_prune);
			next_hk = now + HOUSEKEEPING_MS;
			if (wd_ping_ms > 0 && now >= next_wd_ping) {
				sdnotify_send("WATCHDOG=1");
				next_wd_ping = now + wd_ping_ms;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"settings", no_argument, NULL, 'S'}, {"events", no_argument, NULL, 'E'},
		{"version", no_argument, NULL, 'V'},  {"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'J'},
		{NULL, 0, NULL, 0}};
	struct mgr *m;
	const char *cfgpath = NULL, *statedir = NULL, *errstr = NULL;
	char dbpath[PATH_MAX];
	int ch, check_only = 0, verbose = 0, created = 0, nerr, health = 0, health_json = 0;

	while ((ch = getopt_long(argc, argv, "c:d:nvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'd': statedir = optarg; break;
		case 'n': check_only = 1; break;
		case 'v': verbose = 1; break;
		case 'S': config_print_table(stdout); return 0;
		case 'E': evcat_print_table(stdout); return 0;
		case 'J': health_json = 1; break;
		case 'V': printf("vigil-manager %s\n", VIGIL_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind == argc - 1 && strcmp(argv[optind], "health") == 0) {
		health = 1;
	} else if (optind < argc - 1 ||
		   (optind == argc - 1 && strcmp(argv[optind], "new-api-key") != 0 &&
		    strcmp(argv[optind], "new-activation-token") != 0)) {
		usage(stderr);
		return 2;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return 1;
	log_init("vigil-manager", LOG_LVL_INFO);
	config_defaults(&m->cfg);
	if (cfgpath == NULL && access("/etc/vigil/manager.conf", R_OK) == 0)
		cfgpath = "/etc/vigil/manager.conf";
	nerr = 0;
	if (cfgpath != NULL)
		nerr = config_load(&m->cfg, cfgpath, stderr);
	if (statedir != NULL && str_copy(m->cfg.state_dir, statedir, sizeof(m->cfg.state_dir)) < 0) {
		fprintf(stderr, "-d: state directory path too long\n");
		nerr++;
	}
	nerr += config_validate(&m->cfg, cfgpath ? cfgpath : "(defaults)", stderr);
	if (check_only) {
		if (nerr)
			fprintf(stderr, "%s: %d problem%s found\n", cfgpath ? cfgpath : "(defaults)",
				nerr, nerr == 1 ? "" : "s");
		else {
			config_print_effective(&m->cfg, stdout);
			fprintf(stderr, "%s: configuration OK\n", cfgpath ? cfgpath : "(defaults)");
		}
		free(m);
		return nerr ? 1 : 0;
	}
	if (nerr && health) {
		printf("VIGIL-MANAGER UNKNOWN - %d configuration problem%s in %s (see above)\n", nerr,
		       nerr == 1 ? "" : "s", cfgpath ? cfgpath : "(defaults)");
		free(m);
		return NAGIOS_UNKNOWN;
	}
	if (nerr)
		fatal("%d configuration problem%s (see above); nothing started", nerr,
		      nerr == 1 ? "" : "s");
	if (health) {
		nerr = mgr_health(&m->cfg, health_json);
		free(m);
		return nerr;
	}
	if (optind < argc) {
		nerr = mgr_rotate(m, argv[optind]);
		free(m);
		return nerr;
	}
	if (verbose || strcmp(m->cfg.log_level, "debug") == 0)
		log_set_level(LOG_LVL_DEBUG);
	else if (strcmp(m->cfg.log_level, "warning") == 0)
		log_set_level(LOG_LVL_WARN);
	else if (strcmp(m->cfg.log_level, "error") == 0)
		log_set_level(LOG_LVL_ERROR);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	umask(077);
	if (mkdir_p(m->cfg.state_dir, 0700) < 0)
		fatal("cannot create state directory %s: %s", m->cfg.state_dir, strerror(errno));
	if (path_join(dbpath, sizeof(dbpath), m->cfg.state_dir, "vigil.db") < 0)
		fatal("state directory path too long");
	if (store_open(&m->store, dbpath, &errstr) < 0)
		fatal("cannot open database %s: %s", dbpath, errstr);
	if (ca_open(&m->ca, m->cfg.state_dir, m->cfg.tls_names, &created, &errstr) < 0)
		fatal("certificate authority in %s: %s", m->cfg.state_dir, errstr);
	if (created)
		log_info("created the certificate authority in %s", m->cfg.state_dir);
	if (mgr_secrets(m) < 0)
		fatal("cannot create the activation token and API key in the database");

	registry_init(&m->reg);
	deadline_init(&m->deadlines);
	alerts_init(&m->alerts);
	policies_init(&m->pol);
	contacts_init(&m->contacts);
	if (policies_load(m, &errstr) < 0)
		fatal("%s: %s", dbpath, errstr);
	if (store_load_computers(&m->store, &m->reg, mgr_policy_of, m) < 0)
		fatal("cannot load computers from %s", dbpath);
	{
		/* IDs of deleted computers are never given again */
		char floor[24];
		int64_t v;
		if (store_setting_get(&m->store, "computer_id_floor", floor, sizeof(floor)) == 0 &&
		    parse_i64(floor, 0, INT64_MAX - 1, &v) == 0 && v >= m->reg.next_id)
			m->reg.next_id = v + 1;
	}
	if (store_load_alerts(&m->store, m) < 0)
		fatal("cannot load alerts from %s", dbpath);
	lic_init(&m->lic);
	if (lic_load(m) < 0)
		fatal("cannot load licenses from %s", dbpath);
	lic_recount(m);
	lic_evaluate(m, now_ms());
	if (mgr_load_act_settings(m) < 0)
		fatal("the activation settings in %s are damaged", dbpath);
	m->started_ms = now_ms();
	m->started_mono = m->last_contact_flush = mono_ms();
	status_start(m);
	links_init(&m->links, m->ca.out_ctx);
	contact_start(m);

	if (loop_init(&m->loop) < 0)
		fatal("epoll: %s", strerror(errno));
	if (server_open(&m->agent_srv, m, "agent", m->cfg.listen_addr, (int)m->cfg.agent_port,
			m->ca.agent_ctx, agentsvc_handle, &errstr) < 0)
		fatal("cannot listen on %s port %lld (agent channel): %s", m->cfg.listen_addr,
		      (long long)m->cfg.agent_port, errstr);
	if (server_open(&m->api_srv, m, "api", m->cfg.listen_addr, (int)m->cfg.api_port,
			m->ca.api_ctx, api_handle, &errstr) < 0)
		fatal("cannot listen on %s port %lld (REST API): %s", m->cfg.listen_addr,
		      (long long)m->cfg.api_port, errstr);
	m->agent_srv.lim_unauth = (struct http_limits){2048, 8192, (size_t)m->cfg.max_body_unauth};
	m->agent_srv.lim_auth = (struct http_limits){2048, 16384, (size_t)m->cfg.max_body_agent};
	m->api_srv.lim_unauth = m->api_srv.lim_auth =
		(struct http_limits){4096, 16384, (size_t)m->cfg.max_body_api};
	m->agent_srv.handshaking.timeout_ms = m->api_srv.handshaking.timeout_ms =
		m->cfg.handshake_timeout * 1000;
	m->agent_srv.requesting.timeout_ms = m->api_srv.requesting.timeout_ms =
		m->cfg.request_timeout * 1000;
	m->agent_srv.idle.timeout_ms = m->cfg.idle_timeout * 1000;
	m->api_srv.idle.timeout_ms = m->cfg.api_idle_timeout * 1000;
	/* tighter limits before authentication: anonymous agent-channel clients */
	m->agent_srv.idle_anon.timeout_ms = m->cfg.request_timeout * 1000;
	server_set_issuer(&m->agent_srv, m->ca.key);
	if (mgr_write_runfile(m) < 0)
		log_warn("cannot write %s/manager.json", m->cfg.state_dir);
	event_record(m, EV_MANAGER_STARTED, NULL, "vigil-manager %s started; %zu computers",
		     VIGIL_VERSION, m->reg.n);
	store_flush(&m->store, 0);
	/* systemd (Type=notify): both listeners are up */
	if (sdnotify_send("READY=1") < 0)
		log_warn("cannot notify systemd on $NOTIFY_SOCKET: %s", strerror(errno));
	log_info("listening on %s: agents on port %d, REST API on port %d; state in %s; "
		 "CA sha256:%s",
		 m->cfg.listen_addr, m->agent_srv.port, m->api_srv.port, m->cfg.state_dir,
		 m->ca.fingerprint);

	mgr_run(m);

	log_info("stopping (signal %d)", (int)stop_requested);
	sdnotify_send("STOPPING=1");
	event_record(m, EV_MANAGER_SHUTDOWN, NULL, "vigil-manager stopped");
	server_close(&m->agent_srv);
	server_close(&m->api_srv);
	links_clear(m);
	contacts_clear(m);
	if (store_flush(&m->store, 1) < 0)
		log_error("final database flush failed; the last contact times may be older");
	store_close(&m->store);
	alerts_clear(&m->alerts);
	lic_clear(&m->lic);
	deadline_clear(&m->deadlines);
	registry_clear(&m->reg);
	policies_clear(&m->pol);
	ca_close(&m->ca);
	loop_clear(&m->loop);
	free(m);
	return 0;
}
