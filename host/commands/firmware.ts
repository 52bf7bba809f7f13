import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FileError } from '../../common/errors.js';
import { parseInteger } from '../../common/cli-args.js';
import { loadPrivateKey, loadPublicKey } from '../../firmware/keys.js';
import { ImageError, checkPolicy, verifyImage } from '../../firmware/image.js';
import { readInputFile } from '../../common/input-file.js';

export function register(program: Command): void {
  const fw = program.command('firmware').description('build and verify signed firmware images (docs/firmware-format.md)');
  fw.command('build')
    .description('build a signed .aufw image')
    .requiredOption('--key <file>', 'Ed25519 private key (PEM)')
    .requiredOption('--version <v>', 'image version, MAJOR.MINOR.PATCH')
    .requiredOption('--out <file>', 'output .aufw file')
    .option('--model <file>', 'model .aunet (default: models/busi-lite.aunet)')
    .option('--config <file>', 'device configuration, JSON or YAML')
    .option('--runtime <file>', 'the runtime: the kernels\' WebAssembly module (default: build/kernels.simd.wasm)')
    .option('--monitor <dir>', 'monitor bundle folder (default: monitor/dist)')
    .option('--security-counter <n>', 'anti-rollback counter', '0')
    .option('--hardware-id <id>', 'hardware the image is for', 'aunet-edge-1')
    .action(async (o: { key: string; version: string; out: string; model?: string; config?: string; runtime?: string; monitor?: string; securityCounter: string; hardwareId: string }) => {
      const counter = parseInteger(o.securityCounter, '--security-counter', { min: 0 });
      const { buildFirmware } = await import('../box/build-image.js');
      const image = await buildFirmware({
        privateKey: loadPrivateKey(o.key),
        version: o.version,
        securityCounter: counter,
        hardwareId: o.hardwareId,
        model: o.model,
        config: o.config,
        runtime: o.runtime,
        monitorDir: o.monitor,
      });
      writeFileSync(o.out, image);
      process.stdout.write(`${o.out}: firmware ${o.version} (security counter ${counter}, ${image.length} bytes)\n`);
    });
  fw.command('verify')
    .description('check structure, signature and every hash of an image')
    .argument('<file>', '.aufw image')
    .requiredOption('--pubkey <file>', 'Ed25519 public key (PEM)')
    .option('--hardware-id <id>', 'also check the hardware id')
    .option('--min-security-counter <n>', 'also refuse a lower security counter')
    .action((file: string, o: { pubkey: string; hardwareId?: string; minSecurityCounter?: string }) => {
      const minSecurityCounter = parseInteger(o.minSecurityCounter ?? '0', '--min-security-counter', { min: 0 });
      const bytes = readInputFile(file, 'firmware image');
      try {
        const img = verifyImage(bytes, loadPublicKey(o.pubkey));
        if (o.hardwareId || o.minSecurityCounter) {
          checkPolicy(img.manifest, { hardwareId: o.hardwareId ?? img.manifest.hardwareId, minSecurityCounter });
        }
        process.stdout.write(`${file}: OK — version ${img.manifest.version}, security counter ${img.manifest.securityCounter}, hardware ${img.manifest.hardwareId}, signature and ${img.manifest.sections.length} section hashes verified\n`);
      } catch (e) {
        if (e instanceof ImageError) throw new FileError(file, `${e.code}: ${e.message}`, e.code);
        throw e;
      }
    });
}
