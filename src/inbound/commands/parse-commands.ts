/** One command line from the top of a staff reply. */
export interface CommandLine {
  /** The line as written, for error replies. */
  line: string;
  /** The command name in lower case, without `#`. */
  name: string;
  argument: string;
}

const COMMAND_LINE = /^#([a-z][a-z-]*)(?:[ \t]+(.*))?$/i;

/**
 * Split the command block off the top of a reply's new text. Commands are the lines
 * that start with `#` and a letter, before any other text; blank lines between them
 * are allowed. `#1042` is not a command, so a reply may start with a task number.
 */
export function splitCommands(text: string): { commands: CommandLine[]; body: string } {
  const lines = text.split(/\r?\n/);
  const commands: CommandLine[] = [];
  let index = 0;

  for (; index < lines.length; index++) {
    const line = (lines[index] ?? '').trim();
    if (line === '') continue;

    const match = COMMAND_LINE.exec(line);
    if (!match) break;
    commands.push({ line, name: match[1]!.toLowerCase(), argument: (match[2] ?? '').trim() });
  }

  return { commands, body: lines.slice(index).join('\n').trim() };
}
