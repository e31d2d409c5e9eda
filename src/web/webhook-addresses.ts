/**
 * Where webhooks may connect, by address: a listed host name can still resolve to this machine, the cloud's metadata
 * service or an internal network. Every address a host resolves to is checked, and private, loopback, link-local,
 * multicast and reserved ones are refused unless the operator listed them in WEB_WEBHOOK_PRIVATE_NETWORKS. The
 * check is the connection's own name lookup (`lookup`, handed to undici's connector), so the address connected to is
 * the address checked: a DNS answer that changes between a check and the connection (rebinding) gains nothing.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** One resolved address. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a host name to all its addresses (the system resolver by default; tests pass their own). */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>;

// Special-purpose ranges (IANA's registries): nothing a webhook on the internet lives at.
const FORBIDDEN_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT; also some clouds' metadata (100.100.100.200)
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local, with the metadata address 169.254.169.254
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
const FORBIDDEN_V6 = [
  '::/127', // unspecified and loopback
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16', // 6to4 carries an IPv4 address of any kind
  'fc00::/7', // unique local, with fd00:ec2::254 (a cloud metadata address)
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
];

const forbidden = blockListOf([...FORBIDDEN_V4, ...FORBIDDEN_V6]);
// IPv4 inside IPv6, checked as the IPv4 address it carries; a spelling not recognised is refused. (Kept apart: a
// BlockList matches IPv4 addresses against `::ffff:0:0/96` too.)
const carriesIPv4 = blockListOf(['::ffff:0:0/96', '64:ff9b::/96']);

/** Checks and resolves webhook destinations. */
export class AddressGuard {
  readonly #allowed: BlockList;
  readonly #resolve: Resolve;

  /** `privateNetworks`: CIDRs or addresses (WEB_WEBHOOK_PRIVATE_NETWORKS) that webhooks may reach all the same. */
  constructor(privateNetworks: readonly string[], resolve: Resolve = systemResolve) {
    this.#allowed = blockListOf(privateNetworks);
    this.#resolve = resolve;
  }

  /** Whether a webhook may connect to `address`. */
  permits(address: string): boolean {
    const embedded = embeddedIPv4(address);
    if (embedded === undefined && isIP(address) === 6 && carriesIPv4.check(address, 'ipv6')) return false;
    const plain = embedded ?? address;
    const type = isIP(plain) === 4 ? 'ipv4' : 'ipv6';
    return !forbidden.check(plain, type) || this.#allowed.check(plain, type);
  }

  /** The addresses of `hostname` (a name or an IP literal) a webhook may connect to; empty when none. */
  async permittedAddresses(hostname: string): Promise<ResolvedAddress[]> {
    const host = hostname.replace(/^\[|\]$/g, '');
    const family = isIP(host);
    const addresses = family === 0 ? await this.#resolve(host) : [{ address: host, family: family as 4 | 6 }];
    return addresses.filter((entry) => this.permits(entry.address));
  }

  /**
   * A `lookup` for `net.connect` that answers only permitted addresses, so the connection goes where the check said.
   * A host with none fails the connection with an error saying so.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.permittedAddresses(hostname).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = addresses.filter((entry) => wanted === undefined || entry.family === wanted);
        if (usable.length === 0) {
          const error: NodeJS.ErrnoException = new Error(`${hostname} resolves to no address webhooks may reach`);
          error.code = 'EWEBHOOKADDRESS';
          return callback(error, '', 0);
        }
        if (options.all === true) return callback(null, usable);
        return callback(null, usable[0]!.address, usable[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

/** Whether `entry` is an address or a CIDR (`10.0.0.0/8`, `fd00::/8`) the guard understands. */
export function isNetwork(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function blockListOf(networks: readonly string[]): BlockList {
  const list = new BlockList();
  for (const network of networks) {
    const [address = '', prefix] = network.split('/');
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

/** The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::/96`) IPv6 address. */
function embeddedIPv4(address: string): string | undefined {
  if (isIP(address) !== 6) return undefined;
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!match) return undefined;
  if (match[1] !== undefined) return match[1];
  const high = parseInt(match[2]!, 16);
  const low = parseInt(match[3]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

async function systemResolve(hostname: string): Promise<ResolvedAddress[]> {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
}
