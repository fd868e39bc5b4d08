/* cmd_user.c - ferry user: authd's accounts, their names and groups, the audit record.
 * Thin over ferry/store.h and ferry/passwd.h; passwords never echo, never print. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ferry/log.h"
#include "ferry/passwd.h"
#include "ferry/pki.h"
#include "ferry/store.h"

#include "cli.h"

static const char user_usage[] =
    "usage: ferry user <command> --db FILE [options] [NAME]\n"
    "\n"
    "commands:\n"
    "  add NAME      create an account (asks for its password); with\n"
    "                --dns/--ip/--group it holds those from the start\n"
    "  passwd NAME   change an account's password\n"
    "  del NAME      delete an account and its bindings (its certificates\n"
    "                stay valid until they expire or are revoked; it can\n"
    "                no longer renew)\n"
    "  dns NAME      bind (--add) or unbind (--del) host names or IPs\n"
    "  group NAME    put the account in (--add) or out of (--del) groups\n"
    "  disable NAME  refuse the account's enrollments and renewals\n"
    "  enable NAME   allow them again\n"
    "  list          the accounts with their names and groups, never\n"
    "                their password hashes\n"
    "  log [NAME]    the audit record: enrollments, renewals, refusals,\n"
    "                revocations, account changes (the last 100, or -n N)\n"
    "\n"
    "  --db FILE          the account database (SQLite; add creates it "
    "0600)\n"
    "  --dns NAME         add: a host name or IP the member's certificates\n"
    "  --ip ADDR            may carry (repeatable)\n"
    "  --group GROUP      add: a group the member belongs to (repeatable)\n"
    "  --add X, --del X   dns, group: what to bind or unbind "
    "(repeatable)\n"
    "  --password-stdin   read the password from the first line of stdin\n"
    "  -n N               log: how many events (default 100)\n"
    "\n"
    "NAME is a member ID: letters, digits, '.', '_', '-'; it becomes the\n"
    "certificate's name. A host name belongs to one account at most; it is\n"
    "stored lower-case without a trailing dot, and wildcards, leading dots\n"
    "and xn-- labels are refused. Passwords are 8 to 1024 bytes, hashed\n"
    "with Argon2id.\n";

enum user_cmd {
	USER_ADD,
	USER_PASSWD,
	USER_DEL,
	USER_DNS,
	USER_GROUP,
	USER_DISABLE,
	USER_ENABLE,
	USER_LIST,
	USER_LOG,
};

/* Whether a command takes NAME: required, forbidden or optional. */
enum { NAME_REQUIRED, NAME_NONE, NAME_OPTIONAL };

static const struct user_cmd_def {
	const char *word;
	enum user_cmd cmd;
	int name;
} user_cmds[] = {
    {"add", USER_ADD, NAME_REQUIRED},
    {"passwd", USER_PASSWD, NAME_REQUIRED},
    {"del", USER_DEL, NAME_REQUIRED},
    {"dns", USER_DNS, NAME_REQUIRED},
    {"group", USER_GROUP, NAME_REQUIRED},
    {"disable", USER_DISABLE, NAME_REQUIRED},
    {"enable", USER_ENABLE, NAME_REQUIRED},
    {"list", USER_LIST, NAME_NONE},
    {"log", USER_LOG, NAME_OPTIONAL},
};

/* A list of option values; argc bounds each. */
struct user_list {
	const char **v;
	size_t n;
};

struct user_args {
	const struct user_cmd_def *def;
	char cmd[32]; /* "user add", for messages */
	const char *db, *name;
	struct user_list names; /* add --dns/--ip */
	struct user_list groups; /* add --group */
	struct user_list plus, minus; /* dns/group --add/--del */
	long n;
	int verbose, from_stdin;
};

enum {
	OPT_DB = 256,
	OPT_PASSWORD_STDIN,
	OPT_DNS,
	OPT_IP,
	OPT_GROUP,
	OPT_ADD,
	OPT_DEL,
};

static void
print_user(const struct ferry_store_user *u, void *arg)
{
	char c[32], p[32], l[32], d[32];

	(void)arg;
	cli_iso_time(u->created, c);
	cli_iso_time(u->updated, p);
	cli_iso_time(u->last_issued, l);
	cli_iso_time(u->disabled, d);
	printf("%-20s created %s  password %s  certificates %u  last %s%s%s\n",
	    u->name, c, p, u->n_certs, l, u->disabled != 0 ? "  DISABLED " : "",
	    u->disabled != 0 ? d : "");
	if (*u->names != '\0')
		printf("%-20s names %s\n", "", u->names);
	if (*u->groups != '\0')
		printf("%-20s groups %s\n", "", u->groups);
}

static void
print_event(const struct ferry_store_event *ev, void *arg)
{
	char t[32], line[2048];

	(void)arg;
	cli_iso_time(ev->time, t);
	/* Names in failed logins are whatever a client sent: make them safe. */
	snprintf(line, sizeof(line), "%s %-12s user=%s addr=%s serial=%s%s%s",
	    t, ev->kind, ev->user != NULL ? ev->user : "-",
	    ev->addr != NULL ? ev->addr : "-",
	    ev->serial != NULL ? ev->serial : "-",
	    ev->detail != NULL ? " " : "",
	    ev->detail != NULL ? ev->detail : "");
	ferry_sanitize(line);
	puts(line);
}

static int
user_list_alloc(struct user_list *l, int argc)
{
	l->n = 0;
	l->v = calloc((size_t)argc + 1, sizeof(*l->v));
	return l->v != NULL ? 0 : -1;
}

static void
user_args_free(struct user_args *a)
{
	free(a->names.v);
	free(a->groups.v);
	free(a->plus.v);
	free(a->minus.v);
}

/* Which options each command takes, checked once the line is read. */
static int
user_check(struct user_args *a)
{
	enum user_cmd c = a->def->cmd;

	if (a->db == NULL || *a->db == '\0') {
		cli_error(
		    "%s: --db is required (see 'ferry user --help')", a->cmd);
		return EXIT_USAGE;
	}
	if (a->def->name == NAME_REQUIRED && a->name == NULL) {
		cli_error("%s: which user? (see 'ferry user --help')", a->cmd);
		return EXIT_USAGE;
	}
	if (a->def->name == NAME_NONE && a->name != NULL)
		return cli_extra_arg(a->cmd, a->name);
	if (a->from_stdin && c != USER_ADD && c != USER_PASSWD) {
		cli_error("%s: --password-stdin is for add and passwd", a->cmd);
		return EXIT_USAGE;
	}
	if ((a->names.n > 0 || a->groups.n > 0) && c != USER_ADD) {
		cli_error("%s: --dns, --ip and --group are for add; use 'ferry "
		          "user dns' or 'ferry user group' to change them",
		    a->cmd);
		return EXIT_USAGE;
	}
	if ((a->plus.n > 0 || a->minus.n > 0) && c != USER_DNS &&
	    c != USER_GROUP) {
		cli_error("%s: --add and --del are for dns and group", a->cmd);
		return EXIT_USAGE;
	}
	if ((c == USER_DNS || c == USER_GROUP) && a->plus.n + a->minus.n == 0) {
		cli_error("%s: what to change? give --add or --del", a->cmd);
		return EXIT_USAGE;
	}
	if (a->name != NULL && ferry_id_check(a->name) != 0)
		return cli_fail(FERRY_E_USAGE, "%s: user name", a->cmd);
	return 0;
}

static int
user_parse(int argc, char **argv, struct user_args *a)
{
	static const struct option longopts[] = {
	    {"db", required_argument, NULL, OPT_DB},
	    {"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
	    {"dns", required_argument, NULL, OPT_DNS},
	    {"ip", required_argument, NULL, OPT_IP},
	    {"group", required_argument, NULL, OPT_GROUP},
	    {"add", required_argument, NULL, OPT_ADD},
	    {"del", required_argument, NULL, OPT_DEL},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	a->n = 100;
	for (size_t i = 0; i < sizeof(user_cmds) / sizeof(user_cmds[0]); i++)
		if (strcmp(argv[1], user_cmds[i].word) == 0)
			a->def = &user_cmds[i];
	if (a->def == NULL) {
		cli_error("user: unknown command '%s'; 'ferry user --help' "
		          "lists them",
		    argv[1]);
		return EXIT_USAGE;
	}
	snprintf(a->cmd, sizeof(a->cmd), "user %s", a->def->word);
	if (user_list_alloc(&a->names, argc) != 0 ||
	    user_list_alloc(&a->groups, argc) != 0 ||
	    user_list_alloc(&a->plus, argc) != 0 ||
	    user_list_alloc(&a->minus, argc) != 0) {
		cli_error("%s: out of memory", a->cmd);
		return EXIT_FAIL;
	}
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":hvn:", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case OPT_DB:
			a->db = optarg;
			break;
		case OPT_PASSWORD_STDIN:
			a->from_stdin = 1;
			break;
		case OPT_DNS:
		case OPT_IP:
			a->names.v[a->names.n++] = optarg;
			break;
		case OPT_GROUP:
			a->groups.v[a->groups.n++] = optarg;
			break;
		case OPT_ADD:
			a->plus.v[a->plus.n++] = optarg;
			break;
		case OPT_DEL:
			a->minus.v[a->minus.n++] = optarg;
			break;
		case 'n':
			if (cli_parse_int(
			        "user log: -n", optarg, 1, 1000000, &a->n) != 0)
				return EXIT_USAGE;
			break;
		case 'v':
			a->verbose = 1;
			break;
		case 'h':
			fputs(user_usage, stdout);
			exit(EXIT_OK);
		default:
			return cli_opt_error("user", c, argv + 1);
		}
	}
	if (optind < argc - 1)
		a->name = argv[1 + optind++];
	if (optind < argc - 1)
		return cli_extra_arg(a->cmd, argv[1 + optind]);
	return user_check(a);
}

/* add and passwd: the password is asked for only once the rest is known good. */
static int
user_set_password(const struct user_args *a, struct ferry_store *st)
{
	struct ferry_store_grants g = {.names = a->names.v,
	    .n_names = a->names.n,
	    .groups = a->groups.v,
	    .n_groups = a->groups.n};
	char pw[FERRY_PASSWD_MAX + 2], hash[FERRY_PASSWD_ENCODED_MAX];
	size_t pwlen = 0;
	int add = a->def->cmd == USER_ADD, r;

	hash[0] = '\0';
	r = ferry_store_user_hash(st, a->name, hash);
	if (add && r != FERRY_E_NOENT)
		r = r == 0 ? ferry_errf(FERRY_E_EXIST,
		                 "user '%s' already exists", a->name)
		           : r;
	else if (!add && r == FERRY_E_NOENT)
		r = ferry_errf(
		    FERRY_E_NOENT, "no user '%s' in %s", a->name, a->db);
	else
		r = 0;
	for (size_t i = 0; r == 0 && add && i < a->names.n; i++) {
		char norm[FERRY_MAX_HOSTNAME + 1], owner[FERRY_MAX_ID + 1];
		enum ferry_host_kind kind;
		int reserved = 0;

		if ((r = ferry_host_normalize(a->names.v[i], norm, &kind)) ==
		        0 &&
		    (r = ferry_store_name_owner(st, norm, owner, &reserved)) ==
		        0)
			r = ferry_errf(FERRY_E_EXIST, "'%s' is %s%s", norm,
			    reserved ? "reserved for authd itself"
			             : "already bound to ",
			    reserved ? "" : owner);
		else if (r == FERRY_E_NOENT)
			r = 0;
	}
	if (r == 0 &&
	    (r = cli_read_password("Password for the new account: ",
	         a->from_stdin, 1, pw, sizeof(pw), &pwlen)) == 0 &&
	    (r = ferry_passwd_hash(pw, pwlen, hash)) == 0)
		r = add ? ferry_store_user_add(st, a->name, hash, &g)
		        : ferry_store_user_set_hash(st, a->name, hash);
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(hash, sizeof(hash));
	if (r == 0)
		printf(
		    "%s %s\n", add ? "added" : "password changed for", a->name);
	return r;
}

/* dns and group: each --del, then each --add; stops at the first failure. */
static int
user_bindings(const struct user_args *a, struct ferry_store *st)
{
	int dns = a->def->cmd == USER_DNS, r = 0;

	for (size_t i = 0; r == 0 && i < a->minus.n; i++) {
		r = dns ? ferry_store_name_unbind(st, a->name, a->minus.v[i])
		        : ferry_store_group_del(st, a->name, a->minus.v[i]);
		if (r == 0)
			printf("%s: removed %s\n", a->name, a->minus.v[i]);
	}
	for (size_t i = 0; r == 0 && i < a->plus.n; i++) {
		r = dns ? ferry_store_name_bind(st, a->name, a->plus.v[i])
		        : ferry_store_group_add(st, a->name, a->plus.v[i]);
		if (r == 0)
			printf("%s: added %s\n", a->name, a->plus.v[i]);
	}
	return r;
}

static int
user_run(const struct user_args *a)
{
	struct ferry_store *st = NULL;
	enum user_cmd c = a->def->cmd;
	int r;

	cli_log_setup(a->verbose, 0);
	if ((r = ferry_store_open(a->db, c == USER_ADD, &st)) != 0)
		goto out;
	switch (c) {
	case USER_ADD:
	case USER_PASSWD:
		r = user_set_password(a, st);
		break;
	case USER_DNS:
	case USER_GROUP:
		r = user_bindings(a, st);
		break;
	case USER_DEL:
		if ((r = ferry_store_user_del(st, a->name)) == 0)
			printf("deleted %s\n", a->name);
		break;
	case USER_DISABLE:
	case USER_ENABLE:
		r = ferry_store_user_set_disabled(
		    st, a->name, c == USER_DISABLE, NULL, "cli");
		if (r == 0)
			printf("%s %s\n",
			    c == USER_DISABLE ? "disabled" : "enabled",
			    a->name);
		break;
	case USER_LIST:
		r = ferry_store_user_list(st, print_user, NULL);
		break;
	case USER_LOG:
		r = ferry_store_event_list(
		    st, a->name, (unsigned)a->n, print_event, NULL);
		break;
	}
out:
	ferry_store_close(st);
	return r == 0 ? EXIT_OK : cli_fail(r, "%s", a->cmd);
}

int
cmd_user(int argc, char **argv)
{
	struct user_args a;
	int r;

	memset(&a, 0, sizeof(a));
	if (argc < 2) {
		cli_error("user: which command? add, passwd, del, dns, group, "
		          "disable, enable, list or log (see 'ferry user "
		          "--help')");
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(user_usage, stdout);
		return EXIT_OK;
	}
	r = user_parse(argc, argv, &a);
	if (r == 0)
		r = user_run(&a);
	user_args_free(&a);
	return r;
}
