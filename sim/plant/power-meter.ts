import { ServerTCP } from 'modbus-serial';

/**
 * The utilities power meter on feeder 3 and the freezer plant's contactor, as
 * one Modbus TCP device (modbus-serial's ServerTCP, unit 1) on 127.0.0.1:
 *
 *   holding 0-1   feeder-3 voltage, float32 ABCD (big-endian words), volts
 *   holding 2-3   feeder-3 current, float32 ABCD, amperes
 *   discrete 0    freezer-01 compressor running (the freezer plant next door)
 *
 * Readings wander a little around the level the timeline sets, like a real meter.
 */
export interface PowerMeter {
  port: number;
  /** Sets the feeder voltage level (volts); readings add ±0.6 V of noise. */
  setVoltage(volts: number): void;
  setCurrent(amperes: number): void;
  setFreezerRunning(running: boolean): void;
  reading(): { voltage: number; current: number; freezerRunning: boolean };
  stop(): Promise<void>;
}

const float32Words = (v: number): [number, number] => {
  const b = Buffer.alloc(4);
  b.writeFloatBE(v);
  return [b.readUInt16BE(0), b.readUInt16BE(2)];
};

export async function startPowerMeter(opts: { port: number; random?: () => number }): Promise<PowerMeter> {
  const random = opts.random ?? Math.random;
  let voltage = 230;
  let current = 120;
  let freezer = false;
  const holding = new Uint16Array(16);
  const refresh = () => {
    const v = voltage + (random() - 0.5) * 1.2;
    const a = current + (random() - 0.5) * 4;
    [holding[0], holding[1]] = float32Words(Math.round(v * 10) / 10);
    [holding[2], holding[3]] = float32Words(Math.round(a * 10) / 10);
  };
  refresh();
  const illegal = () => Object.assign(new Error('illegal data address'), { modbusErrorCode: 2 });
  const register = (addr: number) => {
    if (addr >= holding.length) throw illegal();
    return holding[addr] as number;
  };
  const server = new ServerTCP(
    {
      getHoldingRegister: (addr: number) => register(addr),
      getMultipleHoldingRegisters: (addr: number, n: number) => {
        refresh();
        return Array.from({ length: n }, (_, i) => register(addr + i));
      },
      getInputRegister: () => {
        throw illegal();
      },
      getCoil: () => {
        throw illegal();
      },
      getDiscreteInput: (addr: number) => {
        if (addr !== 0) throw illegal();
        return freezer;
      },
      setRegister: () => {
        throw illegal();
      },
      setCoil: () => {
        throw illegal();
      },
    },
    { host: '127.0.0.1', port: opts.port, unitID: 1 },
  );
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('serverError', reject);
  });
  server.on('socketError', () => undefined);
  return {
    port: opts.port,
    setVoltage: (v) => {
      voltage = v;
      refresh();
    },
    setCurrent: (a) => {
      current = a;
      refresh();
    },
    setFreezerRunning: (on) => {
      freezer = on;
    },
    reading: () => ({ voltage, current, freezerRunning: freezer }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
