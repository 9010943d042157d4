/*
 * loadgen: a small single-threaded epoll load generator for the WHOIS and RDAP benchmarks.
 *
 *   loadgen whois HOST PORT CONNS WARMUP_S SECONDS ITEMS_FILE
 *   loadgen http  HOST PORT CONNS WARMUP_S SECONDS ITEMS_FILE
 *
 * ITEMS_FILE holds one item per line (raw UTF-8 bytes), cycled in order across all slots.
 *
 * whois: each of CONNS slots loops: connect, send "<item>\r\n", read until EOF, close.
 * http:  each of CONNS slots keeps one HTTP/1.1 connection open and sends
 *        "GET <item> HTTP/1.1" one request at a time; the end of a response is found from
 *        Content-Length or chunked transfer-encoding; the connection is reopened when the
 *        server closes it.
 *
 * Load runs for WARMUP_S seconds unrecorded, then SECONDS recorded, then stops by itself
 * (a hard deadline, whatever the server does). Prints one JSON object on stdout:
 * completed, errors, qps, latency percentiles (ms, from request start -- including the
 * connect for whois -- to the last byte), bytes per response and HTTP status counts.
 * A request that takes longer than 5 s counts as an error and its connection is dropped.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUFSZ 65536
#define REQ_TIMEOUT_NS (5LL * 1000000000LL)
#define MAX_EVENTS 256

enum mode { MODE_WHOIS, MODE_HTTP };
enum state { ST_IDLE, ST_CONNECTING, ST_SENDING, ST_READING };

struct slot {
    int fd;
    enum state st;
    int64_t started;      /* ns, start of the current request */
    char *req;            /* request bytes (owned) */
    size_t req_len, req_off;
    char *buf;            /* response buffer (http) */
    size_t buf_len;
    size_t resp_bytes;    /* bytes of the current response */
    int reused;           /* http: connection already served a response */
};

static enum mode g_mode;
static struct sockaddr_in g_addr;
static char **g_items;
static size_t g_nitems, g_next_item;
static int g_epfd;
static int g_recording;

static uint64_t g_completed, g_errors, g_timeouts, g_bytes, g_connect_errors, g_reconnects;
static uint64_t g_status[6]; /* 1xx..5xx in [1..5], other in [0] */
static uint32_t *g_lat;      /* microseconds */
static size_t g_nlat, g_cap_lat;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *msg) {
    perror(msg);
    exit(2);
}

static void record_latency(int64_t ns) {
    if (!g_recording) return;
    if (g_nlat == g_cap_lat) {
        g_cap_lat = g_cap_lat ? g_cap_lat * 2 : 1 << 16;
        g_lat = realloc(g_lat, g_cap_lat * sizeof *g_lat);
        if (!g_lat) die("realloc");
    }
    int64_t us = ns / 1000;
    g_lat[g_nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void load_items(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) die(path);
    size_t cap = 0;
    char *line = NULL;
    size_t n = 0;
    ssize_t len;
    while ((len = getline(&line, &n, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        if (g_nitems == cap) {
            cap = cap ? cap * 2 : 64;
            g_items = realloc(g_items, cap * sizeof *g_items);
            if (!g_items) die("realloc");
        }
        g_items[g_nitems++] = strdup(line);
    }
    free(line);
    fclose(f);
    if (g_nitems == 0) {
        fprintf(stderr, "loadgen: no items in %s\n", path);
        exit(2);
    }
}

static void build_request(struct slot *s) {
    const char *item = g_items[g_next_item++ % g_nitems];
    free(s->req);
    if (g_mode == MODE_WHOIS) {
        size_t n = strlen(item);
        s->req = malloc(n + 2);
        memcpy(s->req, item, n);
        memcpy(s->req + n, "\r\n", 2);
        s->req_len = n + 2;
    } else {
        char *r = NULL;
        int n = asprintf(&r, "GET %s HTTP/1.1\r\nHost: bench\r\nAccept: application/rdap+json\r\n"
                             "User-Agent: loadgen\r\n\r\n", item);
        if (n < 0) die("asprintf");
        s->req = r;
        s->req_len = (size_t)n;
    }
    s->req_off = 0;
    s->resp_bytes = 0;
    s->buf_len = 0;
}

static void close_slot(struct slot *s) {
    if (s->fd >= 0) {
        epoll_ctl(g_epfd, EPOLL_CTL_DEL, s->fd, NULL);
        close(s->fd);
    }
    s->fd = -1;
    s->st = ST_IDLE;
    s->reused = 0;
}

static void set_events(struct slot *s, uint32_t ev, int op) {
    struct epoll_event e = {.events = ev, .data.ptr = s};
    if (epoll_ctl(g_epfd, op, s->fd, &e) < 0) die("epoll_ctl");
}

static void count_error(void) {
    if (g_recording) g_errors++;
}

/* Open a new connection for slot s (the request is already built). */
static void open_conn(struct slot *s) {
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) die("socket");
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = connect(s->fd, (struct sockaddr *)&g_addr, sizeof g_addr);
    if (rc == 0) {
        s->st = ST_SENDING;
        set_events(s, EPOLLOUT, EPOLL_CTL_ADD);
    } else if (errno == EINPROGRESS) {
        s->st = ST_CONNECTING;
        set_events(s, EPOLLOUT, EPOLL_CTL_ADD);
    } else {
        if (g_recording) g_connect_errors++;
        count_error();
        close(s->fd);
        s->fd = -1;
        s->st = ST_IDLE; /* retried by the main loop */
    }
}

/* Start the next request on slot s. */
static void start_request(struct slot *s, int64_t t) {
    build_request(s);
    s->started = t;
    if (g_mode == MODE_HTTP && s->fd >= 0) {
        s->st = ST_SENDING;
        set_events(s, EPOLLOUT, EPOLL_CTL_MOD);
        return;
    }
    if (s->fd >= 0) close_slot(s);
    open_conn(s);
}

static void complete(struct slot *s, int64_t t, int status) {
    if (g_recording) {
        g_completed++;
        g_bytes += s->resp_bytes;
        record_latency(t - s->started);
        if (g_mode == MODE_HTTP) g_status[(status >= 100 && status < 600) ? status / 100 : 0]++;
    }
}

/* http: is buf[0..len) a complete response? Returns 1 complete (*status, *keep set), 0 need more,
   -1 malformed. */
static int http_complete(const char *buf, size_t len, int *status, int *keep) {
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t hlen = (size_t)(end - buf) + 4;
    if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0) return -1;
    *status = atoi(buf + 9);
    *keep = strncmp(buf, "HTTP/1.1", 8) == 0;
    long clen = -1;
    int chunked = 0;
    const char *p = memchr(buf, '\n', hlen);
    while (p && p + 1 < buf + hlen) {
        p++;
        const char *eol = memchr(p, '\n', (size_t)(buf + hlen - p));
        if (!eol) break;
        size_t ll = (size_t)(eol - p);
        if (ll > 15 && strncasecmp(p, "content-length:", 15) == 0) clen = strtol(p + 15, NULL, 10);
        else if (ll > 18 && strncasecmp(p, "transfer-encoding:", 18) == 0 && memmem(p, ll, "chunked", 7))
            chunked = 1;
        else if (ll > 11 && strncasecmp(p, "connection:", 11) == 0) {
            if (memmem(p, ll, "close", 5) || memmem(p, ll, "Close", 5)) *keep = 0;
            else if (memmem(p, ll, "eep-alive", 9)) *keep = 1;
        }
        p = eol;
    }
    if (chunked) {
        size_t off = hlen;
        for (;;) {
            const char *crlf = memmem(buf + off, len - off, "\r\n", 2);
            if (!crlf) return 0;
            long sz = strtol(buf + off, NULL, 16);
            if (sz < 0) return -1;
            off = (size_t)(crlf - buf) + 2;
            if (sz == 0) {
                /* trailers end with an empty line */
                if (len - off >= 2 && buf[off] == '\r' && buf[off + 1] == '\n') return 1;
                return memmem(buf + off, len - off, "\r\n\r\n", 4) ? 1 : 0;
            }
            if (len < off + (size_t)sz + 2) return 0;
            off += (size_t)sz + 2;
        }
    }
    if (clen < 0) {
        if (*status == 204 || *status == 304) return 1;
        return -1; /* read-until-close responses are not supported */
    }
    return len >= hlen + (size_t)clen ? 1 : 0;
}

/* http: the server closed a kept-alive connection before answering; resend on a new one
   (the measured start time is kept). */
static void retry_fresh(struct slot *s) {
    close_slot(s);
    if (g_recording) g_reconnects++;
    s->req_off = 0;
    s->resp_bytes = 0;
    s->buf_len = 0;
    open_conn(s);
}

static void on_event(struct slot *s, uint32_t ev, int64_t t) {
    static char scratch[BUFSZ];
    if (s->st == ST_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) {
            if (g_recording) g_connect_errors++;
            count_error();
            close_slot(s);
            return;
        }
        s->st = ST_SENDING;
    }
    if (s->st == ST_SENDING) {
        if (ev & (EPOLLERR | EPOLLHUP) && !(ev & EPOLLOUT)) {
            count_error();
            close_slot(s);
            return;
        }
        ssize_t n = send(s->fd, s->req + s->req_off, s->req_len - s->req_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) return;
            if (g_mode == MODE_HTTP && s->reused) { /* stale keep-alive connection: retry */
                retry_fresh(s);
                return;
            }
            count_error();
            close_slot(s);
            return;
        }
        s->req_off += (size_t)n;
        if (s->req_off < s->req_len) return;
        s->st = ST_READING;
        set_events(s, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
        return;
    }
    if (s->st != ST_READING) return;
    for (;;) {
        ssize_t n;
        if (g_mode == MODE_WHOIS) {
            n = recv(s->fd, scratch, sizeof scratch, 0);
        } else {
            if (s->buf_len == BUFSZ) {
                count_error();
                close_slot(s);
                return;
            }
            n = recv(s->fd, s->buf + s->buf_len, BUFSZ - s->buf_len, 0);
        }
        if (n < 0) {
            if (errno == EAGAIN) return;
            count_error();
            close_slot(s);
            return;
        }
        if (n == 0) {
            if (g_mode == MODE_WHOIS && s->resp_bytes > 0) {
                complete(s, t, 0);
                close_slot(s);
                return;
            }
            if (g_mode == MODE_HTTP && s->reused && s->resp_bytes == 0) { /* closed while idle */
                retry_fresh(s);
                return;
            }
            count_error(); /* EOF before (a complete) answer */
            close_slot(s);
            return;
        }
        s->resp_bytes += (size_t)n;
        if (g_mode == MODE_HTTP) {
            s->buf_len += (size_t)n;
            int status = 0, keep = 1;
            int c = http_complete(s->buf, s->buf_len, &status, &keep);
            if (c < 0) {
                count_error();
                close_slot(s);
                return;
            }
            if (c > 0) {
                complete(s, t, status);
                if (keep) {
                    s->reused = 1;
                    s->st = ST_IDLE; /* keeps fd; main loop starts the next request */
                } else {
                    close_slot(s);
                }
                return;
            }
        }
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static double pct(double p) {
    if (g_nlat == 0) return 0.0;
    size_t i = (size_t)(p * (double)(g_nlat - 1) + 0.5);
    return g_lat[i] / 1000.0;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: %s whois|http HOST PORT CONNS WARMUP_S SECONDS ITEMS_FILE\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "whois") == 0) g_mode = MODE_WHOIS;
    else if (strcmp(argv[1], "http") == 0) g_mode = MODE_HTTP;
    else {
        fprintf(stderr, "loadgen: unknown mode %s\n", argv[1]);
        return 2;
    }
    memset(&g_addr, 0, sizeof g_addr);
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons((uint16_t)atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &g_addr.sin_addr) != 1) {
        fprintf(stderr, "loadgen: bad IPv4 address %s\n", argv[2]);
        return 2;
    }
    int conns = atoi(argv[4]);
    double warmup = atof(argv[5]), seconds = atof(argv[6]);
    if (conns < 1 || conns > 10000 || seconds <= 0 || warmup < 0) {
        fprintf(stderr, "loadgen: bad CONNS/WARMUP_S/SECONDS\n");
        return 2;
    }
    load_items(argv[7]);

    g_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (g_epfd < 0) die("epoll_create1");
    struct slot *slots = calloc((size_t)conns, sizeof *slots);
    for (int i = 0; i < conns; i++) {
        slots[i].fd = -1;
        if (g_mode == MODE_HTTP) slots[i].buf = malloc(BUFSZ);
    }

    int64_t t0 = now_ns();
    int64_t t_rec = t0 + (int64_t)(warmup * 1e9);
    int64_t t_end = t_rec + (int64_t)(seconds * 1e9);
    g_recording = warmup <= 0;
    int64_t rec_started = g_recording ? t0 : 0;
    struct epoll_event evs[MAX_EVENTS];
    int64_t last_sweep = t0;

    for (;;) {
        int64_t t = now_ns();
        if (!g_recording && t >= t_rec) {
            g_recording = 1;
            rec_started = t;
        }
        if (t >= t_end) break;
        for (int i = 0; i < conns; i++) {
            if (slots[i].st == ST_IDLE) start_request(&slots[i], t);
        }
        if (t - last_sweep > 250000000LL) { /* time out stuck requests */
            last_sweep = t;
            for (int i = 0; i < conns; i++) {
                if (slots[i].st != ST_IDLE && t - slots[i].started > REQ_TIMEOUT_NS) {
                    if (g_recording) g_timeouts++;
                    count_error();
                    close_slot(&slots[i]);
                }
            }
        }
        int64_t wait_ms = (t_end - t) / 1000000 + 1;
        if (wait_ms > 50) wait_ms = 50;
        int n = epoll_wait(g_epfd, evs, MAX_EVENTS, (int)wait_ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        t = now_ns();
        for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events, t);
    }
    int64_t t_stop = now_ns();
    for (int i = 0; i < conns; i++) close_slot(&slots[i]);

    double elapsed = (double)(t_stop - rec_started) / 1e9;
    qsort(g_lat, g_nlat, sizeof *g_lat, cmp_u32);
    double mean = 0;
    for (size_t i = 0; i < g_nlat; i++) mean += g_lat[i];
    mean = g_nlat ? mean / (double)g_nlat / 1000.0 : 0.0;
    printf("{\"mode\": \"%s\", \"connections\": %d, \"seconds\": %.3f, \"completed\": %llu, "
           "\"errors\": %llu, \"connect_errors\": %llu, \"timeouts\": %llu, \"reconnects\": %llu, "
           "\"qps\": %.1f, \"latency_ms\": {\"mean\": %.3f, \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, "
           "\"max\": %.3f}, \"bytes_per_response\": %.1f",
           argv[1], conns, elapsed, (unsigned long long)g_completed, (unsigned long long)g_errors,
           (unsigned long long)g_connect_errors, (unsigned long long)g_timeouts,
           (unsigned long long)g_reconnects, elapsed > 0 ? (double)g_completed / elapsed : 0.0, mean,
           pct(0.50), pct(0.90), pct(0.99), g_nlat ? g_lat[g_nlat - 1] / 1000.0 : 0.0,
           g_completed ? (double)g_bytes / (double)g_completed : 0.0);
    if (g_mode == MODE_HTTP)
        printf(", \"status\": {\"2xx\": %llu, \"3xx\": %llu, \"4xx\": %llu, \"5xx\": %llu, \"other\": %llu}",
               (unsigned long long)g_status[2], (unsigned long long)g_status[3],
               (unsigned long long)g_status[4], (unsigned long long)g_status[5],
               (unsigned long long)(g_status[0] + g_status[1]));
    printf("}\n");
    return 0;
}
