/** What one input line of the terminal chat asks for. */

export type ChatCommand =
  | { kind: 'send'; text: string }
  | { kind: 'direct'; name: string }
  | { kind: 'group'; title: string; members: string[] }
  | { kind: 'list' }
  | { kind: 'history' }
  | { kind: 'switch'; index: number }
  | { kind: 'quit' }
  | { kind: 'help' }
  | { kind: 'empty' }
  | { kind: 'invalid'; problem: string };

export const CHAT_HELP = `commands:
  /direct <name>                 open the direct conversation with <name> and switch to it
  /group <title> <name> [name…]  create a group and switch to it
  /list                          conversations, most recent first, with unread counts
  /switch <n>                    switch to conversation <n> of the last /list
  /history                       the last messages of the current conversation
  /quit                          leave
  anything else                  is sent to the current conversation (start with // to send a leading /)`;

export function parseChatLine(line: string): ChatCommand {
  const trimmed = line.trim();
  if (trimmed === '') return { kind: 'empty' };
  // "//text" sends "/text": a way to start a message with a slash.
  if (trimmed.startsWith('//')) return { kind: 'send', text: trimmed.slice(1) };
  if (!trimmed.startsWith('/')) return { kind: 'send', text: trimmed };
  const [command = '', ...args] = trimmed.slice(1).split(/\s+/);
  switch (command) {
    case 'direct':
      return args.length === 1 && args[0] ? { kind: 'direct', name: args[0] } : { kind: 'invalid', problem: 'usage: /direct <name>' };
    case 'group': {
      const [title, ...members] = args;
      return title !== undefined && members.length > 0
        ? { kind: 'group', title, members }
        : { kind: 'invalid', problem: 'usage: /group <title> <name> [name…]' };
    }
    case 'list':
      return { kind: 'list' };
    case 'history':
      return { kind: 'history' };
    case 'switch': {
      const index = Number(args[0]);
      return args.length === 1 && Number.isInteger(index) && index >= 1
        ? { kind: 'switch', index }
        : { kind: 'invalid', problem: 'usage: /switch <n> (a number from /list)' };
    }
    case 'quit':
    case 'exit':
      return { kind: 'quit' };
    case 'help':
      return { kind: 'help' };
    default:
      return { kind: 'invalid', problem: `unknown command /${command} (try /help)` };
  }
}
