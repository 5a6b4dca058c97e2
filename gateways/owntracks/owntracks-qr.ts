// The OwnTracks setup link as a QR code, rendered on the hub (GET/POST /api/owntracks/setup). The
// link itself is the app's configuration format (protocol/owntracks-config.ts).
import QRCode from 'qrcode';
import {
  QR_OPTIONS,
  ownTracksConfigLink,
  ownTracksConfiguration,
  type OwnTracksConfiguration,
  type OwnTracksSetup,
} from '../../protocol/owntracks-config.js';

/** An SVG document of the QR code (inline, or `<img src="data:image/svg+xml,…">`). */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { ...QR_OPTIONS, type: 'svg' });
}

export interface OwnTracksSetupReply {
  configuration: OwnTracksConfiguration;
  link: string;
  svg: string;
}

export async function ownTracksSetup(s: OwnTracksSetup): Promise<OwnTracksSetupReply> {
  const configuration = ownTracksConfiguration(s);
  const link = ownTracksConfigLink(configuration);
  return { configuration, link, svg: await qrSvg(link) };
}
