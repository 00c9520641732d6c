// `vigil emulator`: the Bybit v5 emulator (src/emulator) in a process of its own, on 127.0.0.1, so
// `vigil run` with a custom Bybit network (or any Bybit client) can trade against the simulated
// venue through Bybit's real protocol. The API key and secret it accepts come from environment
// variables, like every secret here; prices walk on their own unless told not to.

import type { Instrument } from '../core/instrument.ts';
import { defineInstrument } from '../core/instrument.ts';
import { EmulatorServer } from '../emulator/server.ts';
import { bybitLinearSpecs } from '../sim/instruments.ts';
import { simVenueSymbols } from '../venues/sim/server.ts';
import { serveUntilSignal, wholeNumberOption } from './serve.ts';
import { parseFlags, UsageError } from './args.ts';

export const emulatorUsage = `usage: vigil emulator [--port N] [--symbols A,B] [--seed N] [--volatility-bps N] [--reply-delay-ms N] [--relist SYMBOL=TICK,...] [--delist SYMBOL,...]
                      [--announce-delisting SYMBOL=MINUTES,...]
  --port N             the port on 127.0.0.1 (default 0: a free one; the line "listening http://127.0.0.1:PORT" says which)
  --symbols A,B        from ${simVenueSymbols.join(', ')} (default: all)
  --seed N             the seed of the price walks (default 1)
  --volatility-bps N   one step of the walk, ten a second, in basis points (default 5; 0: prices stand still)
  --reply-delay-ms N   each REST reply leaves this long after the venue acted (stream pushes go first)
  --relist SYMBOL=TICK once the process gets SIGUSR2, instruments-info lists SYMBOL with this tick, as Bybit does on an
                       announced change (the book keeps its grid: what a client reading the instruments sees of it)
  --delist SYMBOL      once the process gets SIGUSR2, instruments-info lists SYMBOL no more, as Bybit's after it delists one
  --announce-delisting SYMBOL=MINUTES
                       once the process gets SIGUSR2, instruments-info lists SYMBOL with a deliveryTime this many minutes
                       later, as Bybit's once it has announced a perpetual's delisting (only the listing changes)
  the API key and secret it accepts: VIGIL_EMULATOR_KEY and VIGIL_EMULATOR_SECRET (default testkey / testsecret)`;

export async function runEmulatorCommand(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(emulatorUsage);
    return 0;
  }
  const values = parseFlags(argv, {
      port: { type: 'string', default: '0' }, symbols: { type: 'string' }, seed: { type: 'string', default: '1' },
      'volatility-bps': { type: 'string', default: '5' }, 'reply-delay-ms': { type: 'string', default: '0' }, relist: { type: 'string' },
      delist: { type: 'string' }, 'announce-delisting': { type: 'string' },
    });
  const symbols = values.symbols === undefined ? simVenueSymbols : values.symbols.split(',').map((symbol) => symbol.trim().toUpperCase());
  for (const symbol of symbols) {
    if (!simVenueSymbols.includes(symbol)) throw new UsageError(`--symbols: the emulator has no "${symbol}"; it lists ${simVenueSymbols.join(', ')}`);
  }
  const volatilityBps = wholeNumberOption('--volatility-bps', values['volatility-bps'], 0, 1_000);
  const server = new EmulatorServer({
    symbols, seed: wholeNumberOption('--seed', values.seed, 0, 2 ** 32 - 1), replyDelayMs: wholeNumberOption('--reply-delay-ms', values['reply-delay-ms'], 0, 60_000),
    apiKeys: { [process.env.VIGIL_EMULATOR_KEY ?? 'testkey']: process.env.VIGIL_EMULATOR_SECRET ?? 'testsecret' },
    priceFeed: volatilityBps === 0 ? null : { tickMs: 100, volatilityBps },
    log: (line) => console.error(line),
  });
  const relisted = values.relist === undefined ? [] : relistOption(values.relist, symbols);
  const delisted = values.delist === undefined ? [] : delistOption(values.delist, symbols);
  const announced = values['announce-delisting'] === undefined ? [] : announceOption(values['announce-delisting'], symbols);
  if (relisted.length > 0 || delisted.length > 0 || announced.length > 0) {
    process.on('SIGUSR2', () => {
      for (const instrument of relisted) {
        server.exchange.relist(instrument);
        console.log(`relisted ${instrument.symbol} with tick ${instrument.tickSize}`);
      }
      for (const symbol of delisted) {
        server.exchange.unlist(symbol);
        console.log(`delisted ${symbol}`);
      }
      for (const { symbol, minutes } of announced) {
        const delistMs = Date.now() + Math.round(minutes * 60_000);
        server.exchange.relist({ ...server.exchange.instrument(symbol), delistMs });
        console.log(`delisting of ${symbol} announced for ${new Date(delistMs).toISOString()}`);
      }
    });
  }
  const port = await server.listen(wholeNumberOption('--port', values.port, 0, 65_535));
  console.log(`listening http://127.0.0.1:${port} (REST), ws://127.0.0.1:${port}/v5/public/linear and /v5/private (streams)`);
  return serveUntilSignal(server);
}

/** `SOLUSDT,ETHUSDT`: symbols the emulator lists. */
function delistOption(text: string, symbols: readonly string[]): string[] {
  return text.split(',').map((part) => {
    const symbol = part.trim().toUpperCase();
    if (!symbols.includes(symbol)) throw new UsageError(`--delist: "${part}" names no symbol the emulator lists (${symbols.join(', ')})`);
    return symbol;
  });
}

/** `SOLUSDT=30,ETHUSDT=1440`: symbols the emulator lists, each with the minutes to its delisting. */
function announceOption(text: string, symbols: readonly string[]): { readonly symbol: string; readonly minutes: number }[] {
  return text.split(',').map((part) => {
    const [name = '', minutesText = ''] = part.trim().split('=');
    const symbol = name.toUpperCase();
    const minutes = Number(minutesText);
    if (!symbols.includes(symbol)) throw new UsageError(`--announce-delisting: "${part}" names no symbol the emulator lists (${symbols.join(', ')})`);
    if (minutesText.trim() === '' || !Number.isFinite(minutes) || minutes <= 0) throw new UsageError(`--announce-delisting: "${part}": expected SYMBOL=MINUTES, minutes above 0`);
    return { symbol, minutes };
  });
}

/** `SOLUSDT=0.001,ETHUSDT=0.1`: each symbol's instrument with that tick. */
function relistOption(text: string, symbols: readonly string[]): Instrument[] {
  return text.split(',').map((part) => {
    const [symbol = '', tickSize = ''] = part.trim().split('=');
    const spec = bybitLinearSpecs.find((candidate) => candidate.symbol === symbol.toUpperCase());
    if (spec === undefined || !symbols.includes(spec.symbol)) throw new UsageError(`--relist: "${part}" names no symbol the emulator lists (${symbols.join(', ')})`);
    const defined = defineInstrument({ ...spec, tickSize });
    if (!defined.ok) throw new UsageError(`--relist: "${part}": ${defined.reason}`);
    return defined.value;
  });
}
