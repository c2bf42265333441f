// Saves an exported file through a Blob link: works the same in the browser and in Electron's renderer.
import type { ExportedFile } from '../../../core/api/lab-api';

/** The file's bytes: base64 content (a PDF, a bundle) decoded, text as it is. */
export function fileBody(file: ExportedFile): BlobPart {
  if (file.encoding !== 'base64') return file.content;
  const bin = atob(file.content);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

export function downloadFile(file: ExportedFile): void {
  const url = URL.createObjectURL(new Blob([fileBody(file)], { type: file.mimeType }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoke later: some engines start reading the blob only after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Bytes as base64 (for an upload through the LabApi), in chunks so no call gets millions of arguments. */
export function bytesToBase64(bytes: Uint8Array): string {
  const CHUNK = 3 * 8192;
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) {
    parts.push(btoa(String.fromCharCode(...bytes.subarray(i, i + CHUNK))));
  }
  return parts.join('');
}
