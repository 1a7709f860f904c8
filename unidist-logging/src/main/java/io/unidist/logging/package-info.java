/**
 * Logging defaults that just work on one host, on top of SLF4J and logback.
 *
 * <p>Add {@code io.unidist:unidist-logging} and log through SLF4J; with no XML you get:
 * <ul>
 *   <li>a readable console line on stdout: {@code 17:06:50.123 INFO  [main] com.acme.App - started};</li>
 *   <li>{@code <dir>/<program>.log}, plain text with UTC time, level, thread, logger, caller
 *       {@code File.java:line} (unless caller data is turned off, see Cost) and message;</li>
 *   <li>{@code <dir>/<program>.jsonl}, one JSON object per line with {@code time} (ISO-8601 UTC,
 *       milliseconds), {@code level}, {@code host}, {@code program}, {@code pid}, {@code track},
 *       {@code seq} (per process, across tracks), {@code thread}, {@code logger},
 *       {@code message}, {@code mdc}, {@code kv} (SLF4J 2 key-values), {@code exception}
 *       ({@code class}, {@code message}, {@code stack}) when there is one, and {@code file},
 *       {@code line} when caller data is on;</li>
 *   <li>rotation by day and by size into {@code <program>.<yyyy-MM-dd>.<i>.log.gz} /
 *       {@code .jsonl.gz} (compressed by one background thread), and one total size cap over
 *       every file of the program, all tracks included;</li>
 *   <li>{@link io.unidist.logging.Tracks#logger(String)} for records that go to their own files,
 *       {@code <program>.<track>.log} and {@code .jsonl}.</li>
 * </ul>
 *
 * <p>A {@code logback.xml}, {@code logback-test.xml} or {@code -Dlogback.configurationFile} of
 * your own takes over completely; none of the below is then installed.
 *
 * <h2>Settings</h2>
 * Read once at start from, later ones winning: {@code unidist-logging.properties} on the class
 * path, the file named by {@code -Dunidist.logging.config=path}, then system properties. All
 * sources use the same keys. A value that does not parse gives one warning on stderr and its
 * default is used.
 * <table class="striped">
 *   <caption>Keys and defaults</caption>
 *   <thead><tr><th>key</th><th>default</th><th>meaning</th></tr></thead>
 *   <tbody>
 *   <tr><td>{@code unidist.logging.dir}</td><td>{@code ./logs}</td><td>log directory, made if missing</td></tr>
 *   <tr><td>{@code unidist.program} (or {@code unidist.logging.program})</td><td>simple name of the main
 *       class, or the jar name without {@code .jar}</td><td>program name in file names and records</td></tr>
 *   <tr><td>{@code unidist.logging.level}</td><td>{@code INFO}</td><td>root level</td></tr>
 *   <tr><td>{@code unidist.logging.level.<logger>}</td><td>inherited</td><td>level of one logger</td></tr>
 *   <tr><td>{@code unidist.logging.console}</td><td>{@code true}</td><td>console line on stdout</td></tr>
 *   <tr><td>{@code unidist.logging.file.maxSize}</td><td>{@code 10MB}</td><td>size at which a file is rotated</td></tr>
 *   <tr><td>{@code unidist.logging.file.maxHistoryDays}</td><td>{@code 30}</td><td>days of archives kept: archives
 *       dated more than this many days before today are deleted</td></tr>
 *   <tr><td>{@code unidist.logging.totalSizeCap}</td><td>{@code 1GB}</td><td>all files of the program, all
 *       tracks; oldest archives are deleted first</td></tr>
 *   <tr><td>{@code unidist.logging.callerData}</td><td>{@code true}</td><td>caller file and line in the records
 *       of every track; a short stack walk per record, see Cost</td></tr>
 *   <tr><td>{@code unidist.logging.track.<track>.callerData}</td><td>value of {@code callerData}</td><td>the same for one track</td></tr>
 *   <tr><td>{@code unidist.logging.json.maxMessageChars}</td><td>{@code 65536}</td><td>longer messages and stacks are
 *       cut in the JSON file and end with {@code …[truncated, N chars in total]}</td></tr>
 *   <tr><td>{@code unidist.logging.manifest.enabled}</td><td>{@code true}</td><td>write the scrapers' manifest
 *       (below) and a header line at the top of each text file</td></tr>
 *   <tr><td>{@code unidist.logging.manifest.interval}</td><td>{@code 1s}</td><td>how often the manifest is brought
 *       up to date if offsets moved: {@code 250ms}, {@code 2s}, {@code 1m}, a bare number is milliseconds, at
 *       least {@code 10ms}</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.enabled}</td><td>{@code false}</td><td>send records to a syslog
 *       server too (below)</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.host}</td><td>{@code localhost}</td><td>the server; resolved again at
 *       each connection</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.protocol}</td><td>{@code udp}</td><td>{@code udp}, {@code tcp},
 *       {@code tls} (RFC 5424 over RFC 5426, RFC 6587 octet counting, RFC 5425), or {@code udp3164} (logback's
 *       own BSD syslog appender)</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.port}</td><td>{@code 514}, {@code 6514} for {@code tls}</td><td>the
 *       server's port</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.facility}</td><td>{@code USER}</td><td>{@code KERN}, {@code USER},
 *       {@code MAIL}, {@code DAEMON}, {@code AUTH}, {@code SYSLOG}, {@code LPR}, {@code NEWS}, {@code UUCP},
 *       {@code CRON}, {@code AUTHPRIV}, {@code FTP}, {@code NTP}, {@code AUDIT}, {@code ALERT}, {@code CLOCK},
 *       {@code LOCAL0} to {@code LOCAL7}, any case</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.appName}</td><td>the program name</td><td>APP-NAME (TAG for
 *       {@code udp3164})</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.level}</td><td>{@code INFO}</td><td>lowest level sent</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.tracks}</td><td>{@code main}</td><td>tracks sent: {@code *} or a
 *       comma list; {@code main} is the default track</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.queueSize}</td><td>{@code 10000}</td><td>records held while the
 *       server is slow or down; more are dropped and counted</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.maxMessageSize}</td><td>{@code 2048} ({@code udp}), {@code 8192}
 *       ({@code tcp}, {@code tls}), {@code 1024} ({@code udp3164})</td><td>bytes per message, at least 480;
 *       longer messages are cut, never inside a UTF-8 character; a size such as {@code 4KB} is taken</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.connectTimeout}</td><td>{@code 5s}</td><td>TCP connect and TLS
 *       handshake</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.tls.trustStore}, {@code .tls.trustStorePassword},
 *       {@code .tls.trustStoreType}</td><td>the JDK's trust store, {@code PKCS12}</td><td>certificates that
 *       the server's chain must lead to</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.tls.keyStore}, {@code .tls.keyStorePassword},
 *       {@code .tls.keyStoreType}</td><td>none, {@code PKCS12}</td><td>a client certificate, for servers that
 *       ask for one</td></tr>
 *   <tr><td>{@code unidist.logging.syslog.tls.verifyHostname}</td><td>{@code true}</td><td>the server's
 *       certificate must name {@code host} (DNS or IP subject alternative name)</td></tr>
 *   </tbody>
 * </table>
 *
 * <h2>Manifest for log scrapers</h2>
 * {@code <dir>/<program>.manifest.json} lists every file of the program with its state
 * ({@code active}, {@code rotated}, {@code compressed}, {@code deleted}), a fingerprint of its
 * content that rotation, renames and compression keep (SHA-256 of the first line), and the
 * offset just past its last complete, flushed record, so that a scraper resumes without loss or
 * duplicates. Guarantees: the manifest is replaced atomically (temporary file, fsync, rename,
 * directory fsync), so it always parses; an offset never counts a partly written record and
 * never decreases for a fingerprint; the manifest is brought up to date soon after each open,
 * rollover, compression and deletion, every interval if offsets moved, when logback stops and
 * at JVM exit, and lags the files by at most one interval in between (what a crash can lose:
 * that lag, until the program runs again). Nothing is done per record beyond updating a few
 * fields in memory. The format and the scraper's algorithm are in {@code docs/LOG-MANIFEST.md}.
 *
 * <h2>Forwarding to collectors (cluster)</h2>
 * {@link io.unidist.logging.LogForwarding#start(io.unidist.Unidist)} sends this node's records to
 * the cluster's elected collectors (it needs {@code io.unidist:unidist-cluster} on the class
 * path). Its keys, read from the same sources:
 * <table class="striped">
 *   <caption>Forwarding keys and defaults</caption>
 *   <thead><tr><th>key</th><th>default</th><th>meaning</th></tr></thead>
 *   <tbody>
 *   <tr><td>{@code unidist.logging.forward.collectors}</td><td>{@code 1}</td><td>number of collectors</td></tr>
 *   <tr><td>{@code unidist.logging.forward.candidates}</td><td>the voters</td><td>comma-separated node names that
 *       may collect</td></tr>
 *   <tr><td>{@code unidist.logging.forward.level}</td><td>{@code TRACE}</td><td>lowest level forwarded (of what
 *       the logger levels let through)</td></tr>
 *   <tr><td>{@code unidist.logging.forward.tracks}</td><td>{@code *}</td><td>comma-separated tracks forwarded
 *       ({@code main} is the default track)</td></tr>
 *   <tr><td>{@code unidist.logging.forward.spool.dir}</td><td>{@code <dir>/spool}</td><td>spool directory; one
 *       sub-directory per node</td></tr>
 *   <tr><td>{@code unidist.logging.forward.spool.maxSize}</td><td>{@code 64MB}</td><td>disk the spool may use</td></tr>
 *   <tr><td>{@code unidist.logging.forward.spool.fsyncInterval}</td><td>{@code 1s}</td><td>how often the spool is
 *       forced to disk ({@code 0s}: every record)</td></tr>
 *   <tr><td>{@code unidist.logging.forward.spool.whenFull}</td><td>{@code drop-oldest}</td><td>{@code drop-oldest},
 *       {@code drop-newest} or {@code block}; drops are counted and reported in the log</td></tr>
 *   <tr><td>{@code unidist.logging.forward.ackTimeout}</td><td>{@code 3s}</td><td>wait for a collector's
 *       acknowledgement before sending a batch again</td></tr>
 *   <tr><td>{@code unidist.logging.forward.batch.records}</td><td>{@code 1000}</td><td>records per batch at most</td></tr>
 *   <tr><td>{@code unidist.logging.forward.batch.maxSize}</td><td>{@code 512KB}</td><td>bytes per batch at most</td></tr>
 *   <tr><td>{@code unidist.logging.forward.drainTimeout}</td><td>{@code 5s}</td><td>how long {@code close()} sends
 *       what is spooled before it stops</td></tr>
 *   <tr><td>{@code unidist.logging.forward.collector.dir}</td><td>{@code <dir>/collected}</td><td>where a collector
 *       writes {@code collected.<node>.<track>.jsonl} and, unless manifests are turned off,
 *       {@code collected.manifest.json}</td></tr>
 *   <tr><td>{@code unidist.logging.forward.collector.file.maxSize}</td><td>{@code 100MB}</td><td>size at which a
 *       collected file is rotated</td></tr>
 *   <tr><td>{@code unidist.logging.forward.collector.totalSizeCap}</td><td>{@code 10GB}</td><td>all collected
 *       files; oldest archives are deleted first</td></tr>
 *   </tbody>
 * </table>
 * A collector rotates and caps its files like the local ones and keeps a manifest of the same
 * format for them, {@code collected.manifest.json}, with the same guarantees: a scraper of the
 * collector's directory resumes without loss or duplicates across rotation, compression and
 * deletion. Node names are made file-safe (letters, digits, {@code .}, {@code -}, {@code _}, at
 * most 100 characters); the track is the last dot-separated part of a name; the manifest's
 * {@code firstSeq} and {@code lastSeq} are the records' {@code fseq} (see
 * {@code docs/LOG-MANIFEST.md}). Collectors deliver at least once: a record can be written twice
 * across a collector restart or failover, with the same key.
 *
 * <h2>Syslog</h2>
 * With {@code unidist.logging.syslog.enabled=true} records of the chosen tracks and level also go
 * to a syslog server, as RFC 5424 messages:
 * <pre>{@code <PRI>1 2024-05-01T12:00:00.123Z host app 4242 main [unidist@32473 seq="7" thread="main" logger="com.acme.App" file="App.java" line="12"][mdc@32473 user="ann"][kv@32473 order="42"] BOM message}</pre>
 * PRI is facility × 8 + severity (ERROR 3, WARN 4, INFO 6, DEBUG and TRACE 7), MSGID the track,
 * {@code seq} the per-process record number (as in the JSON file), MSG the message and the first
 * 20 lines of a stack trace. {@code 32473} is IANA's example enterprise number (RFC 5612), a
 * placeholder. With {@code udp3164}, logback's own {@code SyslogAppender} sends its RFC 3164 format.
 * <p>Guarantees: a logging call never waits for the network; records go to a bounded queue that
 * one daemon thread sends, and a record that finds it full is dropped and counted. Over TCP and
 * TLS a broken connection is re-opened with backoff (100 ms doubling to 30 s) and the last 1000
 * records written on it (at most 1 MB) are sent again, because the server may not have read
 * them: the server may see duplicates around a reconnect (same {@code seq}), and records are
 * lost only from a full queue, at stop or JVM exit (the queue is drained for up to a second, by a
 * shutdown hook when logback is not stopped), or beyond that
 * window. UDP is best effort. Drops, an unreachable server, a failed TLS handshake and a lost or
 * restored connection are reported as records of the logger {@code io.unidist.logging.syslog}
 * (to the console and files, never to syslog), drops at most every 10 s.
 *
 * <h2>Failure</h2>
 * If the log directory cannot be made or written, one warning goes to stderr, the console line
 * is kept (even if turned off), tracks go to the console too, and the program runs on without
 * files. A rotated file that cannot be compressed stays as it is, with one warning on stderr.
 * If the manifest cannot be written, one warning goes to stderr, logging goes on and
 * the manifest is retried every interval. A syslog server that is down, unknown or refuses the
 * TLS handshake changes nothing for the program or its files (see Syslog). JSON lines are valid for
 * any message: quotes, backslashes and control characters are escaped, a lone surrogate becomes
 * U+FFFD.
 *
 * <h2>What a crash can lose</h2>
 * When a logging call returns, its record has been handed to the operating system with
 * {@code write(2)} in both files of its track, the text file and the JSON-lines file; no buffer
 * in the process holds it. So it survives the end of the process, however it ends
 * ({@code kill -9}, a JVM crash, {@code Runtime.halt}); it may not survive a crash of the
 * operating system or a power cut, as nothing is fsynced. A record whose call had not returned
 * when the process died may be in both files, in the text file only (it is written first), in
 * neither, or cut at the end of a file (the next start ends the cut line, see the manifest).
 * Exceptions: while a file cannot be written (a full disk, an I/O error) logback drops its
 * records until a write succeeds again and says so in its status; records logged while logback
 * stops or resets may be dropped. The console and syslog are not covered (syslog: see above).
 *
 * <h2>Thread safety and cost</h2>
 * Any number of threads may log. Each thread finds the caller (when caller data is on) and
 * encodes both lines of its record on its own, in parallel with the others, then writes them,
 * one {@code write(2)} call per file, each file under its own lock: while one thread writes its
 * JSON line the next can write its text line. Records are in the same order in the text and
 * the JSON file.
 * <ul>
 *   <li>One record from one thread costs two {@code write(2)} calls (about 0.85 µs each on tmpfs
 *       here, where plain logback's whole record with its one write costs about 2 µs) and
 *       about 1 µs of encoding and bookkeeping; figures in {@code docs/BENCHMARKS.md}
 *       ({@code io.unidist.bench.LoggingBenchmark}).</li>
 *   <li>Caller data costs a stack walk per record, made in logback's turbo filter five frames
 *       above the caller: on Java 17 about 4 to 5 µs (each frame walked is resolved to its
 *       method), more than the rest of the record. It is on by default; turn it off per track
 *       where the rate matters more than file and line.</li>
 *   <li>Rotated files are compressed by one background thread per set-up, at gzip's fastest
 *       level (about 1 µs of processor time per record of the benchmark; the default level
 *       costs three times that for archives about 10% smaller). When records come faster than it
 *       compresses, rotated files wait their turn, listed as {@code rotated}; the size cap
 *       still holds (waiting files are deleted oldest first when it must).</li>
 * </ul>
 */
package io.unidist.logging;
