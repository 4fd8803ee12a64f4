import { parseArgs } from 'node:util';
import type { Role } from '../../db/generated/enums.js';
import { normalizeAddress } from '../../tasks/users.js';
import { formatTable } from '../format.js';
import { UsageError, type CliCommand } from '../types.js';

const ROLES: readonly Role[] = ['customer', 'employee', 'manager', 'admin'];

/** `postdesk user create|list|set`: manage users. */
export const userCommand: CliCommand = {
  name: 'user',
  summary: 'create, change and list users',
  usage: [
    'user create --email ADDRESS [--name NAME] [--role customer|employee|manager|admin] [--manager ADDRESS] [--department NAME]',
    'user set ADDRESS [--name NAME] [--role ROLE] [--manager ADDRESS|none] [--department NAME|none]',
    'user list [--role ROLE]',
  ].join('\n'),
  async run(args, deps) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { email: { type: 'string' }, name: { type: 'string' }, role: { type: 'string' }, manager: { type: 'string' }, department: { type: 'string' } },
    });
    if (values.role !== undefined && !ROLES.includes(values.role as Role)) throw new UsageError(`invalid --role "${values.role}"; use one of: ${ROLES.join(', ')}`);
    const role = values.role as Role | undefined;

    if (sub === 'list') {
      const users = await deps.prisma.user.findMany({ where: role ? { role } : {}, include: { manager: true, department: true }, orderBy: { id: 'asc' } });
      for (const line of formatTable(['ID', 'EMAIL', 'NAME', 'ROLE', 'MANAGER', 'DEPARTMENT'], users.map((user) => [user.id, user.email, user.name, user.role, user.manager?.email, user.department?.name]))) deps.out(line);
      return 0;
    }

    if (sub !== 'create' && sub !== 'set') throw new UsageError(sub ? `unknown subcommand "user ${sub}"` : 'missing subcommand');
    const email = normalizeAddress(sub === 'create' ? (values.email ?? '') : (positionals[0] ?? ''));
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw new UsageError(`invalid or missing address "${email}"`);

    const managerId = await resolveManager(deps, values.manager);
    const departmentId = await resolveDepartment(deps, values.department);
    const fields = {
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(role ? { role } : {}),
      ...(managerId !== undefined ? { managerId } : {}),
      ...(departmentId !== undefined ? { departmentId } : {}),
    };

    if (sub === 'create') {
      const existing = await deps.prisma.user.findUnique({ where: { email } });
      if (existing) throw new UsageError(`a user with the address ${email} exists already (id ${existing.id}); use "user set" to change it`);
      const user = await deps.prisma.user.create({ data: { email, role: role ?? 'customer', ...fields } });
      deps.out(`created user ${user.id} <${user.email}> with role ${user.role}`);
      return 0;
    }

    const existing = await deps.prisma.user.findUnique({ where: { email } });
    if (!existing) throw new UsageError(`no user with the address ${email}`);
    const user = await deps.prisma.user.update({ where: { email }, data: fields });
    deps.out(`updated user ${user.id} <${user.email}>: role ${user.role}`);
    return 0;
  },
};

async function resolveManager(deps: Parameters<CliCommand['run']>[1], value: string | undefined): Promise<number | null | undefined> {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const manager = await deps.prisma.user.findUnique({ where: { email: normalizeAddress(value) } });
  if (!manager) throw new UsageError(`no user with the address ${value} to be the manager; create that user first`);
  return manager.id;
}

async function resolveDepartment(deps: Parameters<CliCommand['run']>[1], value: string | undefined): Promise<number | null | undefined> {
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const department = await deps.prisma.department.findUnique({ where: { name: value } });
  if (!department) throw new UsageError(`no department named "${value}"; create it with "department create"`);
  return department.id;
}
