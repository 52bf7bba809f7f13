import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FileError } from '../../common/errors.js';
import { parseInteger } from '../../common/cli-args.js';
import { loadPrivateKey, loadPublicKey } from '../../firmware/keys.js';
import { ImageError, checkPolicy, section, verifyImage } from '../../firmware/image.js';
import { BundleError, readBundle } from '../../firmware/bundle.js';
import { readInputFile } from '../../common/input-file.js';
import { readImageConfig } from '../../contracts/box-settings.js';
import { resolveConfig } from '../../contracts/run-config.js';

interface BuildOpts {
  key: string;
  version: string;
  out: string;
  securityCounter: string;
  model?: string;
  config?: string;
  runtime: string[];
  monitor?: string;
  hardwareId: string;
  recordHost?: boolean;
  allowDowngrade?: boolean;
  sbom?: string;
}

export function register(program: Command): void {
  const fw = program.command('firmware').description('build and verify signed firmware images (docs/firmware-format.md)');
  fw.command('build')
    .description('build a signed .aufw image')
    .requiredOption('--key <file>', 'Ed25519 private key (PEM)')
    .requiredOption('--version <v>', 'image version, MAJOR.MINOR.PATCH')
    .requiredOption('--security-counter <n>', 'anti-rollback counter: raise it when the image fixes a flaw older images must never come back with (docs/firmware-format.md)')
    .requiredOption('--out <file>', 'output .aufw file')
    .option('--model <file>', 'model .aunet (default: models/busi-lite.aunet)')
    .option('--config <file>', 'device configuration, JSON or YAML (the `aunet run` schema, without per-box settings)')
    .option('--runtime <[build=]file>', 'a runtime build (simd, relaxed, threads) and its kernel module; repeat for several (default: the simd and threads builds found in build/)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--monitor <dir>', 'monitor bundle folder (default: monitor/dist)')
    .option('--hardware-id <id>', 'hardware the image is for', 'aunet-edge-1')
    .option('--allow-downgrade', 'let this image replace a newer version at the same security counter (signed into the manifest)')
    .option('--sbom <file>', 'a JSON SBOM to store in the manifest')
    .option('--record-host', "record this machine's host name in the manifest (off: images name nothing of the machine that built them)")
    .action(async (o: BuildOpts) => {
      const counter = parseInteger(o.securityCounter, '--security-counter', { min: 0, max: 2 ** 31 });
      const { buildFirmware, parseRuntimeFlag } = await import('../box/build-image.js');
      const image = await buildFirmware({
        privateKey: loadPrivateKey(o.key),
        version: o.version,
        securityCounter: counter,
        hardwareId: o.hardwareId,
        model: o.model,
        config: o.config,
        runtimes: o.runtime.length ? o.runtime.map(parseRuntimeFlag) : undefined,
        monitorDir: o.monitor,
        recordHost: o.recordHost,
        allowDowngrade: o.allowDowngrade,
        sbom: o.sbom,
      });
      try {
        writeFileSync(o.out, image);
      } catch (e) {
        throw new FileError(o.out, `cannot write the image: ${(e as Error).message}`, 'WRITE_FAILED');
      }
      process.stdout.write(`${o.out}: firmware ${o.version} (security counter ${counter}, ${image.length} bytes)\n`);
    });
  fw.command('verify')
    .description('check structure, signature, every hash, the monitor bundle and the configuration of an image')
    .argument('<file>', '.aufw image')
    .requiredOption('--pubkey <file>', 'Ed25519 public key (PEM)')
    .option('--hardware-id <id>', 'also check the hardware id')
    .option('--min-security-counter <n>', 'also refuse a lower security counter')
    .action(async (file: string, o: { pubkey: string; hardwareId?: string; minSecurityCounter?: string }) => {
      const minSecurityCounter = parseInteger(o.minSecurityCounter ?? '0', '--min-security-counter', { min: 0 });
      const bytes = readInputFile(file, 'firmware image');
      try {
        const img = verifyImage(bytes, loadPublicKey(o.pubkey));
        if (o.hardwareId || o.minSecurityCounter) {
          checkPolicy(img.manifest, { hardwareId: o.hardwareId ?? img.manifest.hardwareId, minSecurityCounter });
        }
        const files = await readBundle(section(img, 'monitor'));
        resolveConfig(readImageConfig(section(img, 'config'), file), {}, `${file} (configuration section)`);
        const m = img.manifest;
        process.stdout.write(
          `${file}: OK — version ${m.version}, security counter ${m.securityCounter}, hardware ${m.hardwareId}, ` +
            `runtimes ${m.runtimes.map((r) => r.build).join(', ')}, signature and ${m.sections.length} section hashes verified, monitor bundle of ${files.length} files, configuration valid\n`,
        );
      } catch (e) {
        if (e instanceof ImageError) throw new FileError(file, `${e.code}: ${e.message}`, e.code);
        if (e instanceof FileError) throw e;
        if (e instanceof BundleError) throw new FileError(file, e.message, 'BAD_FILE');
        throw e;
      }
    });
}
