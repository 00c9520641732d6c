// Where a ccxt Bybit client must point to talk to the emulator instead of Bybit: every REST and
// WebSocket URL key of ccxt 4.5.x's `urls.api`, as ../shared/notes/ccxt-bybit.md section 0 lists
// them (the `trade` URL is hard-coded to Bybit in ccxt, so it is overridden too). Pass the result as
// `urls: { api: localBybitUrls(port) }`; the constructor deep-merges it.
//
// Invariants: every URL is on 127.0.0.1; the private stream URL contains `v5/private` and not
// `spot`, which is how ccxt picks the unified account's topic names.

export type LocalBybitUrls = {
  readonly spot: string; readonly futures: string; readonly v2: string; readonly public: string; readonly private: string;
  readonly ws: {
    readonly public: { readonly spot: string; readonly linear: string; readonly inverse: string; readonly option: string };
    readonly private: {
      readonly spot: { readonly unified: string; readonly nonUnified: string };
      readonly contract: string; readonly usdc: string; readonly trade: string;
    };
  };
};

export function localBybitUrls(port: number): LocalBybitUrls {
  const http = `http://127.0.0.1:${port}`;
  const ws = `ws://127.0.0.1:${port}`;
  return {
    spot: http, futures: http, v2: http, public: http, private: http, // REST: url = urls.api[api] + '/' + path
    ws: {
      public: { spot: `${ws}/v5/public/spot`, linear: `${ws}/v5/public/linear`, inverse: `${ws}/v5/public/inverse`, option: `${ws}/v5/public/option` },
      private: {
        spot: { unified: `${ws}/v5/private`, nonUnified: `${ws}/spot/private/v3` },
        contract: `${ws}/v5/private`, // watchOrders, watchPositions, watchMyTrades, watchBalance
        usdc: `${ws}/trade/option/usdc/private/v1`,
        trade: `${ws}/v5/trade`, // createOrderWs and friends: not emulated (the upgrade is refused with 404)
      },
    },
  };
}
