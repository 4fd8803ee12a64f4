import { parseArgs } from 'node:util';
import { formatTable } from '../format.js';
import { UsageError, type CliCommand } from '../types.js';

/** `postdesk department create|list`. */
export const departmentCommand: CliCommand = {
  name: 'department',
  summary: 'create and list departments',
  usage: ['department create NAME [--address ADDRESS]', 'department list'].join('\n'),
  async run(args, deps) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { address: { type: 'string' } } });
    if (sub === 'list') {
      const departments = await deps.prisma.department.findMany({ orderBy: { name: 'asc' }, include: { _count: { select: { users: true, tasks: true } } } });
      for (const line of formatTable(['ID', 'NAME', 'ADDRESS', 'USERS', 'TASKS'], departments.map((entry) => [entry.id, entry.name, entry.address, entry._count.users, entry._count.tasks]))) deps.out(line);
      return 0;
    }
    if (sub !== 'create') throw new UsageError(sub ? `unknown subcommand "department ${sub}"` : 'missing subcommand');

    const name = positionals[0]?.trim();
    if (!name) throw new UsageError('missing department name');
    if (await deps.prisma.department.findUnique({ where: { name } })) throw new UsageError(`a department named "${name}" exists already`);
    const department = await deps.prisma.department.create({ data: { name, address: values.address?.toLowerCase() ?? null } });
    deps.out(`created department ${department.id} "${department.name}"`);
    return 0;
  },
};

/** `postdesk category create|list`. */
export const categoryCommand: CliCommand = {
  name: 'category',
  summary: 'create and list categories',
  usage: ['category create NAME [--department NAME]', 'category list'].join('\n'),
  async run(args, deps) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { department: { type: 'string' } } });
    if (sub === 'list') {
      const categories = await deps.prisma.category.findMany({ orderBy: { name: 'asc' }, include: { department: true } });
      for (const line of formatTable(['ID', 'NAME', 'DEPARTMENT'], categories.map((entry) => [entry.id, entry.name, entry.department?.name]))) deps.out(line);
      return 0;
    }
    if (sub !== 'create') throw new UsageError(sub ? `unknown subcommand "category ${sub}"` : 'missing subcommand');

    const name = positionals[0]?.trim();
    if (!name) throw new UsageError('missing category name');
    if (await deps.prisma.category.findUnique({ where: { name } })) throw new UsageError(`a category named "${name}" exists already`);
    const department = values.department ? await deps.prisma.department.findUnique({ where: { name: values.department } }) : null;
    if (values.department && !department) throw new UsageError(`no department named "${values.department}"`);
    const category = await deps.prisma.category.create({ data: { name, departmentId: department?.id ?? null } });
    deps.out(`created category ${category.id} "${category.name}"`);
    return 0;
  },
};
