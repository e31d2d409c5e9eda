import { describe, expect, it } from 'vitest';
import { UserFacingError } from '../../src/errors.js';
import {
  ComfyExecutionError,
  ComfyLostError,
  ComfyProtocolError,
  ComfyUnreachableError,
  memberSafeText,
} from '../../src/comfy/errors.js';

describe('ComfyUI errors', () => {
  it('carry an identifier and a sentence for members, with the detail only in the message', () => {
    const error = new ComfyUnreachableError('gpu1', 'POST /prompt failed: ECONNREFUSED connect 127.0.0.1:8188');
    expect(error).toBeInstanceOf(UserFacingError);
    expect(error.identifier).toBe('comfy-unreachable');
    expect(error.userMessage).toBe('The image server could not be reached; please try again in a minute.');
    expect(error.message).toContain('127.0.0.1:8188');
    expect(error.server).toBe('gpu1');
    expect(error.name).toBe('ComfyUnreachableError');
  });

  it('name the failing node and trim its exception for members', () => {
    const error = new ComfyExecutionError('gpu1', 'p', {
      nodeId: '8',
      nodeType: 'VAEDecode',
      exceptionType: 'torch.OutOfMemoryError',
      exceptionMessage: 'Allocation on http://10.0.0.5:8188 failed\n  more detail',
      traceback: ['  File "x.py"\n'],
    });
    expect(error.userMessage).toBe('Node 8 (VAEDecode) failed: Allocation on [address] failed');
    expect(error.message).toContain('torch.OutOfMemoryError');
    expect(error.message).toContain('x.py');
  });

  it('say what to do when the server lost the job, and tell a missing file from a bad answer', () => {
    expect(new ComfyLostError('gpu1', 'p', 'restarted').userMessage).toMatch(/restarted and lost this job/);
    expect(new ComfyProtocolError('gpu1', 'GET /view', 'HTTP 404', 404).identifier).toBe('comfy-not-found');
    expect(new ComfyProtocolError('gpu1', 'GET /queue', 'not JSON').identifier).toBe('comfy-protocol');
  });
});

describe('memberSafeText', () => {
  it('keeps the first line, removes addresses and cuts long text', () => {
    expect(memberSafeText('\n  first   line  \nsecond')).toBe('first line');
    expect(memberSafeText('see 192.168.1.20:8188 now')).toBe('see [address] now');
    expect(memberSafeText('x'.repeat(500))).toHaveLength(200);
  });
});
