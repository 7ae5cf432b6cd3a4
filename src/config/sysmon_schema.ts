/**
 * sysmon's configuration schema: every setting, its default, its limits and the comment that
 * config/default.yaml and `sysmon config init` show for it. Later issues add sections here (storage
 * rotation, serve, alert channels…); secrets among them are marked `secret: true`.
 */
import type { CollectorsConfig, Roots } from "../collect/types.ts";
import { LOG_LEVELS, type LogFormat, type LogLevel } from "../log.ts";
import { type Infer, s } from "./schema.ts";

/** Every interval of the sampler stays within these bounds. */
const INTERVAL_LIMITS = { min: "100ms", max: "1d" } as const;

/** The settings every collector has; `reads` (what it reads) becomes the section's comment. */
function collector(reads: string | undefined, interval?: { default: string; why: string }) {
  return s.object({
    enabled: s.boolean({
      default: true,
      description: "false turns this collector off: its metrics are absent and it costs nothing.",
    }),
    interval: s.nullable(s.duration(INTERVAL_LIMITS), {
      default: interval ? durationDefault(interval.default) : null,
      nullMeans: "inherit collectors.interval",
      description: `How often to read it${interval ? `: ${interval.why}` : "."}`,
    }),
  }, { description: reads });
}

function durationDefault(text: string): number {
  return s.duration({ default: text }).default as number;
}

function filter(kind: string, exclude: string, why: string) {
  return {
    include: s.regex({
      default: "",
      description:
        `Only ${kind} whose name matches this regular expression are reported; "" keeps all.`,
    }),
    exclude: s.regex({
      default: exclude,
      description: `${kind[0].toUpperCase()}${kind.slice(1)} whose name matches this are skipped ` +
        `(applied after include). ${why}`,
    }),
  };
}

/** sysmon serve's port: outside 9100-9999, which Prometheus's default-port list has filled. */
export const DEFAULT_PORT = 10191;

const absolutePath = {
  test: (v: string) => v.startsWith("/"),
  expected: "an absolute path",
};

const LABEL_OR_ALL = 'a label name (letters, digits, _) or "..."';

/** One delivery channel (alert.channels.NAME). */
const alertChannel = s.object({
  type: s.enum(["webhook", "slack", "alertmanager", "email"] as const, {
    default: "webhook",
    description: "webhook: JSON POST (docs/alerts.md); slack: an incoming webhook; " +
      "alertmanager: Alertmanager's API v2 (url = its base, e.g. http://127.0.0.1:9093); " +
      "email: SMTP (smtp_* below).",
  }),
  url: s.string({
    default: "",
    secret: true,
    description: "Where to POST. Webhook URLs carry their credentials: prefer url_file.",
  }),
  url_file: s.string({
    default: "",
    description: "A file holding the URL (first line), read at start; keeps it out of the config.",
  }),
  smtp_host: s.string({ default: "", description: "email: the SMTP server." }),
  smtp_port: s.integer({
    default: 587,
    min: 1,
    max: 65535,
    description: "email: 587 for starttls, 465 for tls, 25 inside a trusted network.",
  }),
  smtp_security: s.enum(["starttls", "tls", "none"] as const, {
    default: "starttls",
    description: "email: starttls requires the upgrade (no plain-text fallback); tls is " +
      "TLS from the first byte; none only for a relay on this machine.",
  }),
  smtp_tls_verify: s.boolean({
    default: true,
    description: "email: check the server's certificate (false for a private CA you trust).",
  }),
  username: s.string({ default: "", description: 'email: SMTP login; "" sends without.' }),
  password: s.string({ default: "", secret: true, description: "email: prefer password_file." }),
  password_file: s.string({ default: "", description: "email: a file holding the password." }),
  from: s.string({ default: "", description: "email: the sender address." }),
  to: s.array(s.string(), { default: [], description: "email: the recipients." }),
  severities: s.array(s.enum(["warning", "critical"] as const), {
    default: ["warning", "critical"],
    description: "Severities sent to this channel.",
  }),
  rules: s.regex({ default: "", description: 'Only rules whose name matches; "" sends all.' }),
  send_resolved: s.boolean({ default: true, description: "Also send resolved notifications." }),
  max_per_hour: s.integer({
    default: 0,
    min: 0,
    max: 100000,
    description: "At most this many deliveries an hour (0: no limit); more wait in the " +
      "outbox, in order, rather than flood a chat channel during an incident.",
  }),
  timeout: s.duration({
    default: "10s",
    min: "100ms",
    max: "5m",
    description: "How long one delivery may take.",
  }),
  resend_interval: s.duration({
    default: "1m",
    min: "1s",
    max: "1h",
    description: "alertmanager: firing alerts are sent again this often (as Prometheus does) " +
      "and expire after four missed resends if sysmon stops.",
  }),
  // Grouping as Alertmanager does it, for the channels sysmon delivers itself (Alertmanager groups
  // with its own route settings: `alert export --format alertmanager` writes the same numbers).
  group_by: s.array(s.string({ check: { test: labelNameOrAll, expected: LABEL_OR_ALL } }), {
    default: ["alertname"],
    description: "webhook, slack, email: alerts with the same values of these labels go out " +
      'in one message; [] puts all in one, ["..."] sends each alert alone.',
  }),
  group_wait: s.duration({
    default: "30s",
    min: "0s",
    max: "1h",
    description: "webhook, slack, email: a new group waits this long for more alerts before " +
      "its first message.",
  }),
  group_interval: s.duration({
    default: "5m",
    min: "1s",
    max: "1d",
    description: "webhook, slack, email: a group that changed (an alert joined, escalated or " +
      "resolved) is sent again no sooner than this after its previous message.",
  }),
  repeat_interval: s.duration({
    default: "4h",
    min: "1m",
    max: "30d",
    description: "webhook, slack, email: an unchanged group still firing is sent again this " +
      "often.",
  }),
});

/** Alertmanager's label-name rule, or its "..." (every alert its own group). */
function labelNameOrAll(v: string): boolean {
  return v === "..." || /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(v);
}

/** One alert rule (alert.rules.NAME); docs/alerts.md explains the semantics. */
const alertRule = s.object({
  enabled: s.boolean({ default: true, description: "false turns the rule off." }),
  type: s.enum(["threshold", "forecast", "anomaly"] as const, {
    default: "threshold",
    description: "threshold compares the metric with fixed numbers; forecast alerts when the " +
      "metric's trend will reach `target` within warning_within / critical_within; anomaly " +
      "alerts when the share of the last `window`'s minutes the anomaly detector flagged is at " +
      "least warning / critical percent (docs/alerts.md).",
  }),
  metric: s.string({ default: "", description: "A model metric (docs/metrics.md)." }),
  entity: s.regex({
    default: "",
    description: 'Per-entity metrics: only entities whose name matches; "" watches all.',
  }),
  match: s.record(s.regex(), {
    default: {},
    description: "Regular expressions on the entity's fields (fstype, device), all must match.",
  }),
  direction: s.enum(["above", "below"] as const, {
    default: "above",
    description: "above: high values are bad (usage); below: low values are bad.",
  }),
  warning: s.nullable(s.number(), { default: null, nullMeans: "no warning level" }),
  critical: s.nullable(s.number(), { default: null, nullMeans: "no critical level" }),
  clear_warning: s.nullable(s.number(), {
    default: null,
    nullMeans: "the warning threshold itself",
    description: "The value at which a warning clears (below warning for direction above).",
  }),
  clear_critical: s.nullable(s.number(), {
    default: null,
    nullMeans: "the critical threshold itself",
    description: "The value at which critical drops back.",
  }),
  target: s.nullable(s.number(), {
    default: null,
    nullMeans: "100 for percentages (forecast rules need it otherwise)",
    description: "forecast: the level whose reaching is forecast, in the metric's unit.",
  }),
  warning_within: s.nullable(s.duration({}), {
    default: null,
    nullMeans: "no warning level",
    description: "forecast: warn when the target will be reached within this time.",
  }),
  critical_within: s.nullable(s.duration({}), {
    default: null,
    nullMeans: "no critical level",
    description: "forecast: critical when the target will be reached within this time.",
  }),
  window: s.nullable(s.duration({ min: "5m", max: "90d" }), {
    default: null,
    nullMeans: "7d for forecast, 15m for anomaly",
    description: "forecast: the history the trend is fitted on; anomaly: the time over which " +
      "the share of flagged minutes is taken.",
  }),
  min_history: s.duration({
    default: "2d",
    min: "1h",
    max: "90d",
    description: "forecast: no forecast before this much history (two days see a daily cycle " +
      "twice; shorter windows are what makes predict_linear cry wolf).",
  }),
  sensitivity: s.number({
    default: 1,
    min: 0.1,
    max: 10,
    description: "anomaly: multiplies the detector's scores (2 flags at half the deviation).",
  }),
  for: s.duration({
    default: "0s",
    min: "0s",
    max: "7d",
    description: "How long the condition must hold before the alert fires.",
  }),
  keep_firing_for: s.duration({
    default: "0s",
    min: "0s",
    max: "7d",
    description: "How long the alert keeps firing after its clear condition is met.",
  }),
  labels: s.record(s.string(), { default: {}, description: "Extra labels on the alert." }),
  summary: s.string({
    default: "{{rule}}: {{metric}} {{entity}} is {{value}} (threshold {{threshold}})",
    description: "One line; {{rule}} {{metric}} {{entity}} {{value}} {{threshold}} " +
      "{{severity}} {{host}} {{unit}} and {{labels.NAME}} are replaced.",
  }),
  description: s.string({ default: "", description: "Longer text, same placeholders." }),
  why: s.string({ default: "", description: "Why the rule and its numbers: documentation only." }),
});

type RuleDefaults = Partial<Omit<AlertRuleConfig, "for" | "keep_firing_for">> & {
  metric: string;
  for: string;
  keep_firing_for: string;
  why: string;
};

/** A shipped rule: the schema's defaults for what it does not set. */
function shippedRule(r: RuleDefaults): AlertRuleConfig {
  return {
    enabled: true,
    type: "threshold",
    entity: "",
    match: {},
    direction: "above",
    warning: null,
    critical: null,
    clear_warning: null,
    clear_critical: null,
    target: null,
    warning_within: null,
    critical_within: null,
    window: null,
    min_history: 2 * 86400,
    sensitivity: 1,
    labels: {},
    summary: alertRule.fields.summary.default as string,
    description: "",
    ...r,
    for: durationDefault(r.for),
    keep_firing_for: durationDefault(r.keep_firing_for),
  };
}

/** The shipped rules: few, conservative, each justified (a noisy default teaches people to ignore alerts). */
const SHIPPED_RULES: Record<string, RuleDefaults> = {
  cpu_busy: {
    metric: "cpu_usage_percent",
    warning: 90,
    critical: 98,
    clear_warning: 80,
    clear_critical: 90,
    for: "10m",
    keep_firing_for: "5m",
    summary: "CPU {{value}} busy on {{host}} for 10 minutes (threshold {{threshold}})",
    why: "Peaks are normal; only saturation held for 10 minutes delays work noticeably. " +
      "Clearing at 80 % keeps a value hovering at 90 % to one notification.",
  },
  memory_low: {
    metric: "memory_usage_percent",
    warning: 90,
    critical: 95,
    clear_warning: 85,
    clear_critical: 90,
    for: "5m",
    keep_firing_for: "5m",
    summary: "memory {{value}} used on {{host}} (threshold {{threshold}})",
    why: "Used is MemTotal - MemAvailable, so reclaimable cache does not count: above 95 % the " +
      "kernel is close to reclaiming hard or invoking the OOM killer.",
  },
  swap_full: {
    metric: "swap_usage_percent",
    warning: 80,
    critical: 95,
    clear_warning: 70,
    clear_critical: 85,
    for: "10m",
    keep_firing_for: "5m",
    summary: "swap {{value}} used on {{host}} (threshold {{threshold}})",
    why: "Swap holding idle pages is healthy; nearly full swap leaves no room when memory runs " +
      "short, so only high, lasting use alerts.",
  },
  filesystem_space: {
    metric: "filesystem_usage_percent",
    match: { fstype: "^(?!(tmpfs|ramfs|squashfs|iso9660|udf)$)" },
    warning: 85,
    critical: 95,
    clear_warning: 80,
    clear_critical: 90,
    for: "5m",
    keep_firing_for: "10m",
    summary: "{{entity}} is {{value}} full on {{host}} (threshold {{threshold}})",
    why: "Use % as df shows it. 85 % leaves time to act on most disks, 95 % is urgent (root's " +
      "reserved blocks aside, writes fail soon). Read-only and memory-backed types are skipped.",
  },
  filesystem_inodes: {
    metric: "filesystem_inodes_usage_percent",
    match: { fstype: "^(?!(tmpfs|ramfs|squashfs|iso9660|udf)$)" },
    warning: 85,
    critical: 95,
    clear_warning: 80,
    clear_critical: 90,
    for: "5m",
    keep_firing_for: "10m",
    summary: "{{entity}} has {{value}} of its inodes used on {{host}} (threshold {{threshold}})",
    why: "Out of inodes, file creation fails with free space left: many small files (mail " +
      "spools, caches) do it.",
  },
  disk_saturated: {
    metric: "disk_util_percent",
    warning: 90,
    clear_warning: 70,
    for: "15m",
    keep_firing_for: "5m",
    summary: "disk {{entity}} busy {{value}} of the time on {{host}} for 15 minutes",
    why: "util % (io_ticks, as iostat) near 100 % for a long time means a queue on a " +
      "single-queue disk; SSDs and NVMe serve requests in parallel and can show 100 % with " +
      "capacity left, so this stays a warning.",
  },
  network_receive_errors: {
    metric: "net_rx_errors_per_second",
    warning: 1,
    clear_warning: 0.1,
    for: "10m",
    keep_firing_for: "10m",
    summary: "{{entity}} receives {{value}} errors on {{host}}",
    why: "A healthy link has none; a lasting error rate points at a cable, a duplex mismatch or " +
      "a failing NIC. One per second over 10 minutes excludes single bursts.",
  },
  network_transmit_errors: {
    metric: "net_tx_errors_per_second",
    warning: 1,
    clear_warning: 0.1,
    for: "10m",
    keep_firing_for: "10m",
    summary: "{{entity}} sends {{value}} errors on {{host}}",
    why: "As for receive errors: transmit errors on a healthy link are zero.",
  },
  filesystem_will_fill: {
    type: "forecast",
    metric: "filesystem_usage_percent",
    match: { fstype: "^(?!(tmpfs|ramfs|squashfs|iso9660|udf)$)" },
    target: 100,
    warning_within: 2 * 86400,
    critical_within: 12 * 3600,
    for: "30m",
    keep_firing_for: "1h",
    summary: "{{entity}} on {{host}} will be full in about {{value}} (now {{current}})",
    why:
      "The report --capacity forecast, live: a robust trend over up to 7 days with at least 2, " +
      "log-rotation sawtooth and cleanups recognised, so a nightly job does not page at 03:00. " +
      "Two days' notice is time to act in working hours; 12 hours is urgent.",
  },
  cpu_unusual: {
    enabled: false,
    type: "anomaly",
    metric: "cpu_usage_percent",
    warning: 50,
    clear_warning: 20,
    window: 15 * 60,
    for: "0s",
    keep_firing_for: "15m",
    summary: "CPU use on {{host}} unusual for {{value}} of the last 15 minutes (now {{current}})",
    why: "Off by default: anomalies are for looking, not paging. Turned on, it warns when the " +
      "detector (as report --anomalies --online) flags at least half of 15 minutes against this " +
      "host's own daily pattern; it needs about 2 hours of history (recorded data counts).",
  },
};

const DEFAULT_RULES: Record<string, AlertRuleConfig> = Object.fromEntries(
  Object.entries(SHIPPED_RULES).map(([name, r]) => [name, shippedRule(r)]),
);

export const sysmonSchema = s.object({
  log: s.object({
    level: s.enum(LOG_LEVELS, {
      default: "info",
      description:
        "Least severe message written to stderr: debug is chatty, warn and error are quiet. " +
        "The --log-level flag overrides it.",
    }),
    format: s.enum(["text", "json"] as const satisfies readonly LogFormat[], {
      default: "text",
      description:
        "text is one readable line per message; json is one JSON object per line, for log collectors.",
    }),
  }, { description: "Logging. Messages go to stderr (the journal under systemd)." }),

  paths: s.object({
    procfs: s.string({
      default: "/proc",
      check: absolutePath,
      description:
        "Where the kernel's proc filesystem is mounted (flag --procfs). In a container that " +
        "watches its host, mount the host's /proc elsewhere and point this at it, e.g. /host/proc.",
    }),
    sysfs: s.string({
      default: "/sys",
      check: absolutePath,
      description: "Where sysfs is mounted (flag --sysfs), e.g. /host/sys in a container.",
    }),
    rootfs: s.string({
      default: "/",
      check: absolutePath,
      description:
        "Where the host's root filesystem is seen (flag --rootfs); filesystem sizes of the " +
        "host's mount points are read under it, e.g. /host/root in a container.",
    }),
  }, {
    description:
      "Where the kernel's trees are. Change them only to monitor a host from a container.",
  }),

  storage: s.object({
    path: s.string({
      default: "",
      check: {
        test: (v) => v === "" || v.startsWith("/"),
        expected: 'an absolute path, or "" for automatic',
      },
      description: 'Data directory of every command (flag --data). "" chooses automatically: ' +
        "$STATE_DIRECTORY under systemd, /var/lib/sysmon when run as root, otherwise " +
        "$XDG_DATA_HOME/sysmon (~/.local/share/sysmon).",
    }),
    backend: s.enum(["file"] as const, {
      default: "file",
      description:
        "Where samples are stored and read back from: JSON Lines or CSV files in the data " +
        "directory (file, the only backend so far; the storage interface leaves room for others).",
    }),
    format: s.enum(["jsonl", "csv"] as const, {
      default: "jsonl",
      description:
        "File format of raw samples (flag --format): jsonl writes one version-1 sample per line, " +
        "as `snapshot --json`; csv one row per sample, one column per series (docs/storage.md). " +
        "Rollups are always JSON Lines.",
    }),
    flush_interval: s.duration({
      default: "10s",
      min: "0s",
      max: "1h",
      description:
        "Samples wait in memory at most this long before they are written: a crash loses at most " +
        "this much. 0s writes every sample at once.",
    }),
    fsync: s.enum(["always", "never"] as const, {
      default: "always",
      description:
        "With always, every flush is fsync'ed, so a power cut loses at most one flush interval; " +
        "with never, the kernel decides (a crash of sysmon alone still loses nothing flushed).",
    }),
    max_file_mib: s.integer({
      default: 4,
      min: 1,
      max: 65536,
      description:
        "A raw file is closed, compressed and a new part started when it grows past this size " +
        "(MiB), besides the daily rotation at 00:00 UTC. Small parts keep the uncompressed tail " +
        "small and bound the memory that compressing or catching up on a file takes.",
    }),
    buffer_samples: s.integer({
      default: 8640,
      min: 10,
      max: 1000000,
      description:
        "When the disk is full or the directory unwritable, up to this many samples wait in " +
        "memory (8640 = one day at 10s) and are written when writing works again; beyond it the " +
        "oldest are dropped, logged and counted (sysmon_store_dropped_samples_total).",
    }),
    retention: s.object({
      raw: s.duration({
        default: "30d",
        min: "1h",
        max: "3650d",
        description: "Raw samples older than this are deleted (whole files, by UTC day).",
      }),
      rollup_1m: s.duration({
        default: "90d",
        min: "1h",
        max: "3650d",
        description: "1-minute aggregates (min, max, sum, count, histogram) are kept this long.",
      }),
      rollup_1h: s.duration({
        default: "365d",
        min: "1d",
        max: "3650d",
        description: "1-hour aggregates are kept this long: a year of capacity history.",
      }),
      max_total_mib: s.integer({
        default: 0,
        min: 0,
        max: 100000000,
        description:
          "Total size limit of the data directory in MiB (0 = none). When exceeded, the oldest " +
          "raw files go first, then 1-minute, then 1-hour rollups; whichever limit bites first wins.",
      }),
    }, { description: "How long recorded data is kept. Deletions are logged with their reason." }),
  }, { description: "Where recorded data and state are kept, and how." }),

  record: s.object({
    interval: s.nullable(s.duration(INTERVAL_LIMITS), {
      default: null,
      nullMeans: "collectors.interval",
      description: "Seconds between recorded samples (flag --interval).",
    }),
    jitter: s.duration({
      default: "0s",
      min: "0s",
      max: "1h",
      description:
        "record --once waits a random time up to this long before reading (flag --jitter), so " +
        "many hosts started by cron at the same second do not hit a shared disk at once.",
    }),
  }, { description: "sysmon record: samples written to the data directory." }),

  serve: s.object({
    listen: s.string({
      default: `127.0.0.1:${DEFAULT_PORT}`,
      check: {
        test: (v) => /^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]*):\d{1,5}$/.test(v),
        expected: "HOST:PORT, e.g. 127.0.0.1:10191 or [::1]:10191",
      },
      description: "Address and port of the HTTP server (flag --listen). " +
        `${DEFAULT_PORT} lies outside 9100-9999, which Prometheus's list of default exporter ` +
        "ports has filled completely, so it collides with no registered exporter. Binding " +
        "anything but loopback needs tokens for the REST API (auth below).",
    }),
    tls: s.object({
      cert: s.string({
        default: "",
        description: 'PEM certificate chain (flag --tls-cert); "" serves plain HTTP.',
      }),
      key: s.string({
        default: "",
        description: "PEM private key of the certificate (flag --tls-key).",
      }),
    }, { description: "HTTPS. Both files are read once at start-up." }),
    auth: s.object({
      token_hashes: s.array(
        s.string({
          check: {
            test: (v) => /^sha256:[0-9a-f]{64}$/.test(v),
            expected: "sha256: followed by 64 hex digits (printed by `sysmon token`)",
          },
        }),
        {
          default: [],
          description: "Hashes of the bearer tokens that are accepted; `sysmon token` creates a " +
            "token and prints its hash. Several may be listed, so tokens can be rotated. The " +
            "tokens themselves are never stored here.",
        },
      ),
      token_file: s.string({
        default: "",
        description: "A file with more accepted tokens or hashes, one per line (# comments), " +
          "e.g. a systemd credential. Tokens from $SYSMON_TOKENS (comma-separated) count too.",
      }),
      api: s.boolean({
        default: true,
        description: "Require a token for /api/v1 when tokens are configured.",
      }),
      metrics: s.boolean({
        default: false,
        description: "Require a token for /metrics too (Prometheus sends it with " +
          "authorization.credentials_file); node_exporter leaves /metrics open.",
      }),
    }, {
      description:
        "Bearer tokens (Authorization: Bearer TOKEN). /healthz, /readyz and the API docs stay open.",
    }),
    access_log: s.boolean({
      default: true,
      description: "One log line per request: client, method, path, status, bytes, duration " +
        "(at level info; never a token).",
    }),
    request_timeout: s.duration({
      default: "30s",
      min: "1s",
      max: "10m",
      description: "A request that takes longer is answered 503 (a range query over years).",
    }),
    max_points: s.integer({
      default: 11000,
      min: 10,
      max: 1000000,
      description: "Most points per series a range query may return (Prometheus's own limit " +
        "is 11000); a larger range or a smaller step is refused with 400 saying which step fits.",
    }),
    max_values: s.integer({
      default: 1000000,
      min: 100,
      max: 100000000,
      description: "Most values (points × series) in one range answer.",
    }),
    cors_origins: s.array(
      s.string({
        check: {
          test: (v) => /^https?:\/\/[^/*\s]+$/.test(v),
          expected: "an origin such as https://grafana.example.com (no wildcard, no path)",
        },
      }),
      {
        default: [],
        description: "Browser origins allowed to call the API (exact matches; never a wildcard).",
      },
    ),
  }, { description: "sysmon serve: the Prometheus /metrics endpoint and the REST API." }),

  alert: s.object({
    watchdog: s.boolean({
      default: false,
      description: "Send Alertmanager channels an alert named Watchdog that always fires (as " +
        "kube-prometheus does): routed to a dead man's switch, its absence says sysmon or its " +
        "path to Alertmanager is down.",
    }),
    channels: s.record(alertChannel, {
      default: {},
      description: "Where notifications go besides stdout and the alert log (DATA/alerts/). " +
        "Deliveries wait in a persistent outbox (DATA/state/outbox.json) and are retried with " +
        "backoff while a channel is down, so an outage loses nothing.",
    }),
    rules: s.record(alertRule, {
      default: DEFAULT_RULES,
      description: "Threshold rules by name. An entry for a shipped rule changes only the " +
        "settings it names (cpu_busy: {warning: 95}); `NAME: {enabled: false}` turns one off; a " +
        "new name adds a rule.",
    }),
  }, {
    description: "sysmon alert: rules over the model's metrics (docs/metrics.md). Each rule has " +
      "warning and critical thresholds, clear thresholds on the safe side (hysteresis), `for` " +
      "(how long the condition must hold before it fires) and keep_firing_for (how long it " +
      "keeps firing after clearing, so a value hovering at the threshold notifies once).",
  }),

  collectors: s.object({
    interval: s.duration({
      ...INTERVAL_LIMITS,
      default: "10s",
      description:
        "How often collectors are read unless they set their own interval. Readings are " +
        "aligned to wall-clock multiples of it; rates are averages over one interval.",
    }),
    max_entities: s.integer({
      default: 256,
      min: 1,
      max: 100000,
      description:
        "Most entities (CPU cores, disks, interfaces, filesystems) one collector reports. " +
        "It bounds memory and the number of series; the excess is counted and logged, not lost silently.",
    }),
    cpu: collector(
      "/proc/stat: CPU times per core, context switches, processes running and blocked.",
    ),
    loadavg: collector("/proc/loadavg: load averages over 1, 5 and 15 minutes."),
    meminfo: collector("/proc/meminfo: memory and swap use."),
    pressure: collector(
      "/proc/pressure/{cpu,memory,io}: pressure stall information (kernels built with PSI only).",
    ),
    diskstats: s.object({
      ...collector(undefined).fields,
      ...filter(
        "disks",
        "^(loop|ram|zram)\\d+$",
        "Partitions are always left out (whole disks are known from /sys/block).",
      ),
    }, {
      description: "/proc/diskstats: throughput, IOPS, latency and utilisation per whole disk.",
    }),
    netdev: s.object({
      ...collector(undefined).fields,
      ...filter(
        "interfaces",
        "^lo$",
        "Loopback is left out by default: its traffic never leaves the host.",
      ),
    }, { description: "/proc/net/dev: traffic, errors and drops per interface." }),
    netclass: collector("/sys/class/net: link speed, state, carrier and MTU per interface."),
    filesystem: s.object({
      ...collector(undefined, {
        default: "1m",
        why: "sizes change slowly, and statfs of a network filesystem can be slow.",
      }).fields,
      fstypes_exclude: s.regex({
        default: "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|" +
          "hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|" +
          "squashfs|sysfs|tracefs)$",
        description:
          "Filesystem types to skip: pseudo and read-only image filesystems whose size means " +
          'nothing for capacity. "" keeps all.',
      }),
      mountpoints_exclude: s.regex({
        default: "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+)($|/)",
        description:
          'Mount points to skip (kernel trees, per-service credentials, container layers). "" ' +
          "keeps all.",
      }),
      statfs_timeout: s.duration({
        default: "5s",
        min: "100ms",
        max: "5m",
        description:
          "A mount whose statfs takes longer is reported stuck (a hung NFS server) and skipped " +
          "until its pending call returns, so one mount never delays the others.",
      }),
    }, {
      description: "Mount points from mountinfo, with their sizes and inodes from statfs (as df).",
    }),
  }, {
    description:
      "What is read from /proc and /sys, and how often. Collector names follow node_exporter.",
  }),
});

export type SysmonSchema = typeof sysmonSchema;

/** The whole configuration after loading (durations in seconds). */
export interface SysmonConfig {
  log: { level: LogLevel; format: LogFormat };
  paths: Roots;
  storage: {
    path: string;
    backend: "file";
    format: "jsonl" | "csv";
    flush_interval: number;
    fsync: "always" | "never";
    max_file_mib: number;
    buffer_samples: number;
    retention: { raw: number; rollup_1m: number; rollup_1h: number; max_total_mib: number };
  };
  record: { interval: number | null; jitter: number };
  serve: {
    listen: string;
    tls: { cert: string; key: string };
    auth: { token_hashes: string[]; token_file: string; api: boolean; metrics: boolean };
    access_log: boolean;
    request_timeout: number;
    max_points: number;
    max_values: number;
    cors_origins: string[];
  };
  alert: {
    watchdog: boolean;
    channels: Record<string, AlertChannelConfig>;
    rules: Record<string, AlertRuleConfig>;
  };
  collectors: CollectorsConfig;
}

/** One delivery channel as configured (durations in seconds). */
export interface AlertChannelConfig {
  type: "webhook" | "slack" | "alertmanager" | "email";
  url: string;
  url_file: string;
  smtp_host: string;
  smtp_port: number;
  smtp_security: "starttls" | "tls" | "none";
  smtp_tls_verify: boolean;
  username: string;
  password: string;
  password_file: string;
  from: string;
  to: string[];
  severities: ("warning" | "critical")[];
  rules: string;
  send_resolved: boolean;
  max_per_hour: number;
  timeout: number;
  resend_interval: number;
  group_by: string[];
  group_wait: number;
  group_interval: number;
  repeat_interval: number;
}

/** One alert rule as configured (durations in seconds). */
export interface AlertRuleConfig {
  enabled: boolean;
  type: "threshold" | "forecast" | "anomaly";
  metric: string;
  entity: string;
  match: Record<string, string>;
  direction: "above" | "below";
  warning: number | null;
  critical: number | null;
  clear_warning: number | null;
  clear_critical: number | null;
  target: number | null;
  warning_within: number | null;
  critical_within: number | null;
  window: number | null;
  min_history: number;
  sensitivity: number;
  for: number;
  keep_firing_for: number;
  labels: Record<string, string>;
  summary: string;
  description: string;
  why: string;
}

// The hand-written type above and the schema must describe the same data: this fails to compile if a
// setting is added to one and not the other, or its type differs.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _schemaMatchesType: Same<Infer<SysmonSchema>, SysmonConfig> = true;
const _collectorsMatchContract: Same<Infer<SysmonSchema>["collectors"], CollectorsConfig> = true;
void _schemaMatchesType;
void _collectorsMatchContract;
