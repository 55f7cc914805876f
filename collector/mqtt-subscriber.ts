// The collector's MQTT session: QoS 1, a fixed client id and a persistent session, so messages
// published while the collector is away wait in the broker. Each message is handed to the
// pipeline in handleMessage, and mqtt.js sends the PUBACK only after that returns: a message is
// acknowledged once it is journaled or set aside, never before.
//
// Group commit: mqtt.js handles the messages of one network read one after another, each PUBACK
// right after its message. To pay one journal write (not one per message) the socket is corked
// at the first message of a burst: the PUBACKs collect in the socket, the pipeline stages its
// journal lines, and at setImmediate (after the burst) the journal is flushed first and the
// socket uncorked second. No PUBACK leaves before the lines it stands for are on disk.
//
// Turn budget: data waiting in the socket is parsed and handled back to back, and mqtt.js takes
// the next packet only once the last one is done. A burst of costly messages (10,000 devices going
// offline at once, each raising alerts and tickets) would hold the event loop for seconds: no
// timer, no HTTP request, no keepalive. After BURST_BUDGET_MS of one burst, the message's `done`
// waits for the flush at setImmediate, so the loop turns before mqtt.js hands over the next one.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Journal } from './journal.js';
import type { CollectorMetrics } from './metrics.js';
import { SUBSCRIPTION } from './topic.js';

export interface SubscriberOptions {
  url: string;
  clientId: string;
  /** MQTT 5 shared subscription group ($share/group/…): collectors in one group split the stream. */
  sharedGroup: string | undefined;
  protocolVersion: 4 | 5;
}

export type MessageSink = (topic: string, payload: Buffer, retained: boolean) => void;

interface Corkable {
  cork(): void;
  uncork(): void;
}

// MQTT 5 ends a session when the connection closes unless told otherwise: keep it for a week.
const SESSION_EXPIRY_S = 7 * 24 * 3600;
/** Longest stretch of one burst before the loop gets a turn, ms. Ordinary bursts end far sooner. */
const BURST_BUDGET_MS = 20;

export class MqttSubscriber {
  readonly client: MqttClient;
  readonly topic: string;
  private corked: Corkable | undefined;
  private burstStartedMs = 0;
  /** The `done` of the message that used up the burst's budget: called after the flush. */
  private heldDone: ((err?: Error) => void) | undefined;
  private readonly flushBurst = () => {
    const stream = this.corked;
    this.corked = undefined;
    this.journal.flush();
    stream?.uncork();
    const done = this.heldDone;
    this.heldDone = undefined;
    done?.(); // its PUBACK goes out after its line is on disk, like the others
  };

  constructor(
    private readonly options: SubscriberOptions,
    private readonly journal: Journal,
    private readonly sink: MessageSink,
    private readonly metrics: CollectorMetrics,
    private readonly log: Logger,
  ) {
    this.topic = options.sharedGroup ? `$share/${options.sharedGroup}/${SUBSCRIPTION}` : SUBSCRIPTION;
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      clean: false,
      protocolVersion: options.protocolVersion,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      resubscribe: false, // we subscribe on every CONNACK ourselves, see below
      manualConnect: true,
      ...(options.protocolVersion === 5 ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_S } } : {}),
    };
    this.client = mqtt.connect(options.url, clientOptions);
    // Attached before connecting: with a persistent session, queued messages arrive right after CONNACK.
    this.client.handleMessage = (packet, done) => {
      if (this.journal.isFull) {
        this.metrics.journalWaits.inc();
        this.waitForRoom().then(() => this.accept(packet.topic, packet.payload as Buffer, packet.retain, done));
        return;
      }
      this.accept(packet.topic, packet.payload as Buffer, packet.retain, done);
    };
    this.client.on('connect', (connack) => {
      this.log.info({ url: options.url, sessionPresent: connack.sessionPresent, topic: this.topic }, 'connected to the broker');
      // mqtt.js does not resubscribe on its own when the broker lost the session; subscribing again
      // when it kept it is harmless, and also picks up a changed topic (shared group on or off).
      this.client.subscribe(this.topic, { qos: 1 }, (err, granted) => {
        if (err) this.log.error({ err: err.message }, 'subscribe failed');
        else if (granted?.some((g) => g.qos > 2)) this.log.error({ granted }, 'broker refused the subscription');
      });
    });
    this.client.on('error', (err) => this.log.warn({ err: err.message }, 'MQTT error'));
    this.client.on('offline', () => this.log.warn({ url: options.url }, 'broker unreachable; reconnecting'));
  }

  get connected(): boolean {
    return this.client.connected;
  }

  start(): void {
    this.client.connect();
  }

  /** Publishes to devices (commands), QoS 1, on the collector's own connection. */
  async publish(topic: string, payload: string): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1 });
  }

  /** Stops taking messages; anything not yet acknowledged stays queued in the broker. */
  async stop(): Promise<void> {
    await this.client.endAsync(false);
  }

  private accept(topic: string, payload: Buffer, retained: boolean, done: (err?: Error) => void): void {
    if (!this.corked) {
      const stream = this.client.stream as unknown as Partial<Corkable>;
      if (typeof stream.cork === 'function' && typeof stream.uncork === 'function') {
        stream.cork();
        this.corked = stream as Corkable;
        this.burstStartedMs = performance.now();
        setImmediate(this.flushBurst);
      }
    }
    this.sink(topic, payload, retained);
    if (!this.corked) {
      // Not corkable (no such transport today): flush per message so the ack still follows the write.
      this.journal.flush();
      done();
    } else if (performance.now() - this.burstStartedMs >= BURST_BUDGET_MS) {
      this.heldDone = done; // the loop turns (timers, HTTP, keepalive) before the next message
    } else {
      done();
    }
  }

  /** The journal is full (InfluxDB long gone): stop acknowledging, so the broker holds the rest. */
  private async waitForRoom(): Promise<void> {
    this.log.warn({ pendingBytes: this.journal.pendingBytes }, 'journal full: pausing intake until InfluxDB catches up');
    while (this.journal.isFull) await new Promise((r) => setTimeout(r, 100));
  }
}
