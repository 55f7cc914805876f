// vitest globalSetup: one real influxd and one real mosquitto for the whole
// run, on the test ports, starting from empty data every time.
import {
  installServices,
  resetInfluxd,
  resetMosquitto,
  startInfluxd,
  startMosquitto,
  stopInfluxd,
  stopMosquitto,
} from './support/services.js';

export async function setup(): Promise<void> {
  const installed = await installServices();
  if (installed) console.log(installed);
  await Promise.all([resetInfluxd(), resetMosquitto()]);
  console.log(await startInfluxd());
  console.log(await startMosquitto());
}

export async function teardown(): Promise<void> {
  // Stop both even if one fails, then report the first failure.
  const results = await Promise.allSettled([stopInfluxd(), stopMosquitto()]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
