// The cmd_tcp bus against the SCPI-like instrument simulator, through the Pyrame-compatible facade.

import { CmdTcp } from '@labwire/bus';
import type { Narrator } from './narrator';
import type { StepRecord } from './report';
import { runStep } from './steps';

export async function busSteps(records: StepRecord[], narrator: Narrator, port: number): Promise<void> {
  const section = 'Bus';
  narrator.section(
    'cmd_tcp bus · SCPI-like instrument',
    `The tcpbus instrument simulator on 127.0.0.1:${port}, driven with Pyrame's own calls (init_tcp, config_tcp, …).\n` +
      "Every call returns Pyrame's (retcode, message); each operation has one deadline, EOF is an error.",
  );
  const cmd = new CmdTcp();
  try {
    const check = (what: string, [code, message]: readonly [number, string]) => {
      if (code !== 1) throw new Error(`${what}: ${message}`);
      return message;
    };

    await runStep(records, narrator, section, 'wrnrd_until *IDN?', async ({ say }) => {
      check('init_tcp', await cmd.init_tcp('scope', `tcp(host=127.0.0.1,port=${port},timeout=2)`));
      say(`init_tcp scope tcp(host=127.0.0.1,port=${port},timeout=2) → ok (no network yet)`);
      check('config_tcp', await cmd.config_tcp('scope'));
      say('config_tcp scope → ok (connected)');
      const idn = check('wrnrd_until_tcp', await cmd.wrnrd_until_tcp('scope', '*IDN?\\n', '\\r\\n,\\n'));
      say(`wrnrd_until_tcp scope "*IDN?\\n" "\\r\\n,\\n" → ${idn}`);
      check('write_tcp', await cmd.write_tcp('scope', 'VOLT 2.5\\n'));
      const volt = check('wrnrd_until_tcp', await cmd.wrnrd_until_tcp('scope', 'VOLT?\\n', '\\n'));
      say(`VOLT 2.5, then VOLT? → ${volt}`);
      const hex = check('wrnrd_bin_until_tcp', await cmd.wrnrd_bin_until_tcp('scope', '2a4f50433f0a', '\\n'));
      say(`wrnrd_bin_until_tcp "2a4f50433f0a" (*OPC?) → ${hex} (lowercase hex, strictly checked)`);
      return idn;
    });

    await runStep(records, narrator, section, 'expect a prompt', async ({ say }) => {
      check('write_tcp', await cmd.write_tcp('scope', 'PROMPT ON\\n'));
      check('write_tcp', await cmd.write_tcp('scope', 'MEAS?\\n'));
      const found = check('expect_tcp', await cmd.expect_tcp('scope', '> ', '2'));
      say(`PROMPT ON, MEAS?, expect_tcp scope "> " → ${found}`);
      const bad = await cmd.write_bin_tcp('scope', 'abc');
      say(`write_bin_tcp scope "abc" → (${bad[0]}, "${bad[1]}"): odd hex is refused, nothing sent`);
      check('inval_tcp', await cmd.inval_tcp('scope'));
      check('deinit_tcp', await cmd.deinit_tcp('scope'));
      say('inval_tcp, deinit_tcp → ok (the socket closed with its last user)');
      return found;
    });
  } finally {
    await cmd.close();
  }
}
