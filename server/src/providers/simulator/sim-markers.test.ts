import { describe, expect, it } from 'vitest';
import { parseSimMarkers } from './sim-markers.ts';

describe('parseSimMarkers', () => {
  it('reads every marker and strips them from the prompt', () => {
    const { markers, prompt } = parseSimMarkers(
      'Hi #sim:error=503 there #sim:refuse #sim:slow=250 #sim:stall=2 #sim:midstream-error=4 #sim:body-error',
    );
    expect(markers).toEqual({
      errorStatus: 503,
      refuse: true,
      slowMs: 250,
      stallAfterChunks: 2,
      errorAfterChunks: 4,
      bodyError: true,
    });
    expect(prompt).toBe('Hi there');
  });

  it.each(['#sim:error', '#sim:error=200', '#sim:slow=fast', '#sim:stall=-1'])(
    'rejects %s with a 400 saying what it expects',
    (marker) => {
      expect(() => parseSimMarkers(`Hi ${marker}`)).toThrow(/expected `#sim:\w+` to be followed by/);
    },
  );
});
