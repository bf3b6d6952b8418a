import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ts } from 'ts-morph';

// Which AWS SDK commands a Lambda handler's code can issue, found statically with the TypeScript
// compiler API. TypeScript 7 has no JS API; ts-morph ships a JS TypeScript (6.x) and exports it as
// `ts`, which is all this uses (an npm alias of typescript@5 would take over the `tsc` bin link).
//
// The unit is the function, not the module: every handler imports getDeps, which builds every
// adapter, so "the modules it imports" would say every function calls everything. Instead:
//
// 1. The bundle: the handler and the project files it imports, transitively (type-only imports
//    are erased, so they do not count). Only this code can run in the Lambda.
// 2. The roots: code that runs when a module loads (top-level statements, but not the bodies of the
//    functions they declare; callbacks handed to a call at load, such as the handler's body in
//    `api(async (req) => ...)`, count as run) and the `handler` export.
// 3. From a reached function, every project function it references (called or passed as a value)
//    is reached, with everything nested in it (inner arrows included). `new C()` reaches C's
//    constructor and field initializers. A call through a port, `deps.repo.save()`, names an
//    interface member: it reaches that member in every class or object literal of the bundle that
//    implements the interface (explicit `implements` or assignable to it). Getters count as calls.
// 4. A reached reference to an SDK command class (`new GetCommand(...)`), a method of an aggregated
//    client (`DynamoDBDocument#get` → GetCommand) or a paginator (`paginateQuery` → QueryCommand)
//    is a command the function can issue.
//
// It over-approximates (every branch is taken, a reference is a call, a port call reaches every
// implementation in the bundle). It cannot see: calls inside node_modules (a library issuing its
// own SDK calls), dynamic dispatch other than through an interface or type-literal member (a
// method overridden in a subclass, a value typed `any`, `obj[computedName]()` on something not
// walked), dynamic `import()` of a computed path, and commands built by name.

/** one command a function can issue, with the chain of functions that reaches it */
export interface CommandUse {
  /** `@aws-sdk/<package>` */
  pkg: string;
  command: string;
  /** file:line of the first reference found */
  at: string;
  /** reached functions from the handler's module down to the one holding the reference */
  via: string[];
}

export interface Reach {
  /** by `${pkg}#${command}` */
  commands: Map<string, CommandUse>;
  /** project files in the bundle (repo-relative) */
  bundle: string[];
  /** how many functions (declarations, methods, arrows) were reached */
  functionsReached: number;
}

type FunctionLike =
  | ts.FunctionDeclaration
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.AccessorDeclaration
  | ts.ArrowFunction
  | ts.FunctionExpression;
/** what the walk visits: a module's load, a class's construction, or a function's body */
type Unit = ts.SourceFile | ts.ClassLikeDeclaration | FunctionLike;

const isFunctionLike = (n: ts.Node): n is FunctionLike =>
  ts.isFunctionDeclaration(n) ||
  ts.isMethodDeclaration(n) ||
  ts.isConstructorDeclaration(n) ||
  ts.isGetAccessorDeclaration(n) ||
  ts.isSetAccessorDeclaration(n) ||
  ts.isArrowFunction(n) ||
  ts.isFunctionExpression(n);

const unwrap = (e: ts.Expression): ts.Expression =>
  ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e)
    ? unwrap(e.expression)
    : e;

const SDK_FILE = /^.*\/node_modules\/(@aws-sdk\/[^/]+)\/dist-types\/(.+)\.d\.ts$/;
const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Builds one TypeScript program over the given handler files (compiler options from `tsconfig`);
 * `reach(file)` then walks one handler. Type errors in the code do not stop the analysis.
 */
export const sdkAnalyzer = (tsconfig: string, entries: string[]) => {
  const root = dirname(tsconfig);
  const json = ts.readConfigFile(tsconfig, ts.sys.readFile).config as { compilerOptions?: Record<string, unknown> };
  const { options } = ts.convertCompilerOptionsFromJson(json.compilerOptions ?? {}, root);
  // only the node types matter for symbols in function code; jest's are not needed
  const program = ts.createProgram(entries, { ...options, types: ['node'], noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const isProject = (sf: ts.SourceFile) =>
    !sf.isDeclarationFile && !program.isSourceFileFromExternalLibrary(sf) && !sf.fileName.includes('/node_modules/');
  const where = (n: ts.Node) => {
    const sf = n.getSourceFile();
    return `${relative(root, sf.fileName)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  };
  const resolved = (s: ts.Symbol | undefined): ts.Symbol | undefined =>
    s && s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;

  /** the project files a handler's bundle holds: value imports, re-exports and literal import() */
  const bundleOf = (entry: ts.SourceFile): ts.SourceFile[] => {
    const seen = new Set<ts.SourceFile>([entry]);
    const queue = [entry];
    const add = (spec: ts.Expression) => {
      const target = resolved(checker.getSymbolAtLocation(spec))?.valueDeclaration;
      if (target && ts.isSourceFile(target) && isProject(target) && !seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    };
    while (queue.length) {
      const sf = queue.shift()!;
      const visit = (n: ts.Node): void => {
        if (ts.isImportDeclaration(n) && !n.importClause?.isTypeOnly) add(n.moduleSpecifier);
        else if (ts.isExportDeclaration(n) && n.moduleSpecifier && !n.isTypeOnly) add(n.moduleSpecifier);
        else if (
          ts.isCallExpression(n) &&
          n.expression.kind === ts.SyntaxKind.ImportKeyword &&
          n.arguments[0] &&
          ts.isStringLiteralLike(n.arguments[0])
        )
          add(n.arguments[0]);
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
    return [...seen];
  };

  const labelOf = (u: ts.Node): string => {
    if (ts.isSourceFile(u)) return `${relative(root, u.fileName)} (load)`;
    const owner = (c: ts.Node) => (ts.isClassLike(c) && c.name ? c.name.text : '<class>');
    if (ts.isClassLike(u)) return `new ${owner(u)}`;
    if (ts.isConstructorDeclaration(u)) return `new ${owner(u.parent)}`;
    if ((ts.isMethodDeclaration(u) || ts.isAccessor(u)) && ts.isClassLike(u.parent)) return `${owner(u.parent)}.${u.name.getText()}`;
    if (ts.isFunctionDeclaration(u) && u.name) return u.name.text;
    const p = u.parent;
    if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && p.name) return p.name.getText();
    if ((ts.isMethodDeclaration(u) || ts.isAccessor(u)) && u.name) return u.name.getText();
    return `(arrow ${where(u)})`;
  };

  const reach = (entryFile: string): Reach => {
    const entry = program.getSourceFile(entryFile);
    if (!entry) throw new Error(`not in the program: ${entryFile}`);
    const bundle = bundleOf(entry);
    const reached = new Map<Unit, Unit | undefined>();
    const queue: Unit[] = [];
    const commands = new Map<string, CommandUse>();
    const implementations = new Map<ts.Symbol, ts.Declaration[]>();

    const enqueue = (u: Unit, from: Unit | undefined) => {
      if (reached.has(u)) return;
      reached.set(u, from);
      queue.push(u);
    };
    const chain = (u: Unit): string[] => {
      const out: string[] = [];
      for (let c: Unit | undefined = u; c; c = reached.get(c)) out.unshift(labelOf(c));
      return out;
    };

    // every class and object literal of the bundle: the candidates that can implement a port
    const classes: ts.ClassLikeDeclaration[] = [];
    const literals: ts.ObjectLiteralExpression[] = [];
    for (const sf of bundle) {
      const collect = (n: ts.Node): void => {
        if (ts.isClassLike(n)) classes.push(n);
        else if (ts.isObjectLiteralExpression(n)) literals.push(n);
        ts.forEachChild(n, collect);
      };
      collect(sf);
    }

    /** the members of the bundle that implement an interface (or type-literal) member */
    const implementationsOf = (member: ts.Symbol, decl: ts.Declaration): ts.Declaration[] => {
      const known = implementations.get(member);
      if (known) return known;
      const out: ts.Declaration[] = [];
      implementations.set(member, out);
      const name = member.getName();
      const owner = decl.parent;
      const ownerSymbol = ts.isInterfaceDeclaration(owner) ? checker.getSymbolAtLocation(owner.name) : undefined;
      const ownerType = ownerSymbol ? checker.getDeclaredTypeOfSymbol(ownerSymbol) : checker.getTypeAtLocation(owner);
      for (const c of classes) {
        const cs = c.name && checker.getSymbolAtLocation(c.name);
        if (!cs) continue;
        const instance = checker.getDeclaredTypeOfSymbol(cs);
        const declared = (c.heritageClauses ?? []).some(
          (h) =>
            h.token === ts.SyntaxKind.ImplementsKeyword &&
            h.types.some((t) => ownerSymbol && resolved(checker.getSymbolAtLocation(t.expression)) === ownerSymbol),
        );
        if (!declared && !checker.isTypeAssignableTo(instance, ownerType)) continue;
        out.push(...(instance.getProperty(name)?.declarations ?? []));
      }
      for (const o of literals) {
        const prop = o.properties.find((p) => p.name && ts.isIdentifier(p.name) && p.name.text === name);
        if (!prop) continue;
        const contextual = checker.getContextualType(o)?.getProperty(name)?.declarations ?? [];
        if (contextual.includes(decl) || checker.isTypeAssignableTo(checker.getTypeAtLocation(o), ownerType)) out.push(prop);
      }
      return out;
    };

    /** an SDK declaration referenced from reached code: a command it can issue, if it is one */
    const sdkReference = (decl: ts.Declaration, site: ts.Node, from: Unit) => {
      const m = SDK_FILE.exec(decl.getSourceFile().fileName);
      if (!m) return;
      const [, pkg, file] = m as unknown as [string, string, string];
      const name = (decl as ts.NamedDeclaration).name?.getText() ?? '';
      let command: string | undefined;
      if (file.startsWith('commands/') && ts.isClassDeclaration(decl) && name.endsWith('Command')) command = name;
      else if (file.startsWith('pagination/') && /^paginate[A-Z]/.test(name)) command = `${name.slice('paginate'.length)}Command`;
      else if (file.startsWith('waiters/') && /^waitFor|^waitUntil/.test(name))
        command = name; // unmapped on purpose: say what it polls
      else if (
        (ts.isMethodDeclaration(decl) || ts.isMethodSignature(decl)) &&
        !file.includes('/') &&
        !file.endsWith('Client') &&
        (ts.isClassLike(decl.parent) || ts.isInterfaceDeclaration(decl.parent)) &&
        decl.parent.name?.text === file &&
        !['send', 'destroy'].includes(name)
      ) {
        command = `${pascal(name)}Command`; // aggregated client: DynamoDBDocument#get, SFN#startExecution
      }
      if (command && !commands.has(`${pkg}#${command}`))
        commands.set(`${pkg}#${command}`, { pkg, command, at: where(site), via: chain(from) });
    };

    /** a project declaration referenced from reached code: what of it runs */
    const reachDeclaration = (decl: ts.Declaration, symbol: ts.Symbol, site: ts.Node, from: Unit): void => {
      const sf = decl.getSourceFile();
      if (!isProject(sf)) return sdkReference(decl, site, from);
      if (isFunctionLike(decl)) return enqueue(decl, from);
      if (ts.isClassLike(decl)) return enqueue(decl, from); // constructed here or by whoever it is handed to
      if ((ts.isVariableDeclaration(decl) || ts.isPropertyAssignment(decl) || ts.isPropertyDeclaration(decl)) && decl.initializer) {
        const init = unwrap(decl.initializer);
        if (isFunctionLike(init)) enqueue(init, from);
        return;
      }
      if (ts.isShorthandPropertyAssignment(decl)) {
        const value = resolved(checker.getShorthandAssignmentValueSymbol(decl));
        for (const d of value?.declarations ?? []) reachDeclaration(d, value!, site, from);
        return;
      }
      if (ts.isMethodSignature(decl) || ts.isPropertySignature(decl)) {
        // a port call: only function-valued members dispatch to an implementation
        const callable = ts.isMethodSignature(decl) || checker.getTypeOfSymbol(symbol).getNonNullableType().getCallSignatures().length > 0;
        if (callable) for (const impl of implementationsOf(symbol, decl)) reachDeclaration(impl, symbol, site, from);
      }
    };

    const reference = (id: ts.Identifier | ts.PrivateIdentifier, from: Unit) => {
      const p = id.parent;
      if (
        ts.isImportSpecifier(p) ||
        ts.isImportClause(p) ||
        ts.isNamespaceImport(p) ||
        ts.isExportSpecifier(p) ||
        ts.isImportEqualsDeclaration(p)
      )
        return;
      let symbol: ts.Symbol | undefined;
      if (ts.isShorthandPropertyAssignment(p)) symbol = checker.getShorthandAssignmentValueSymbol(p);
      else if ((p as ts.NamedDeclaration).name === id && !ts.isPropertyAccessExpression(p) && !ts.isQualifiedName(p))
        return; // a declaration's own name
      else symbol = checker.getSymbolAtLocation(id);
      symbol = resolved(symbol);
      for (const d of symbol?.declarations ?? []) reachDeclaration(d, symbol!, id, from);
    };

    /** a reached function or class construction: everything in it, nested functions included */
    const walkAll = (node: ts.Node, from: Unit): void => {
      const visit = (n: ts.Node): void => {
        if (ts.isTypeNode(n) || ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) return;
        if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) reference(n, from);
        ts.forEachChild(n, visit);
      };
      visit(node);
    };

    /** a module's load: its statements, not the bodies of what it declares */
    const walkLoad = (sf: ts.SourceFile): void => {
      const visit = (n: ts.Node): void => {
        if (ts.isTypeNode(n) || ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) return;
        if (ts.isArrowFunction(n) || ts.isFunctionExpression(n)) {
          // a callback handed to a call at load time (middy handlers, IIFEs) runs; a stored one runs when referenced
          let e: ts.Node = n;
          while (ts.isParenthesizedExpression(e.parent) || ts.isAsExpression(e.parent) || ts.isSatisfiesExpression(e.parent)) e = e.parent;
          if (
            (ts.isCallExpression(e.parent) || ts.isNewExpression(e.parent)) &&
            (e.parent.expression === e || e.parent.arguments?.includes(e as ts.Expression))
          )
            enqueue(n, sf);
          return;
        }
        if (isFunctionLike(n)) return;
        if (ts.isClassLike(n)) {
          for (const m of n.members) {
            const isStatic = ts.canHaveModifiers(m) && ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword);
            if (ts.isClassStaticBlockDeclaration(m) || (isStatic && ts.isPropertyDeclaration(m) && m.initializer)) walkAll(m, sf);
          }
          for (const h of n.heritageClauses ?? [])
            if (h.token === ts.SyntaxKind.ExtendsKeyword) h.types.forEach((t) => visit(t.expression));
          return;
        }
        if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) reference(n, sf);
        ts.forEachChild(n, visit);
      };
      visit(sf);
    };

    const construct = (c: ts.ClassLikeDeclaration) => {
      for (const m of c.members) {
        const isStatic = ts.canHaveModifiers(m) && ts.getModifiers(m)?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword);
        if (ts.isConstructorDeclaration(m) || (ts.isPropertyDeclaration(m) && !isStatic && m.initializer)) walkAll(m, c);
      }
      // the base class is constructed too
      for (const h of c.heritageClauses ?? []) {
        if (h.token !== ts.SyntaxKind.ExtendsKeyword) continue;
        for (const t of h.types) walkAll(t.expression, c);
      }
    };

    for (const sf of bundle) enqueue(sf, undefined);
    const handlerSymbol =
      checker.getSymbolAtLocation(entry) &&
      checker.getExportsOfModule(checker.getSymbolAtLocation(entry)!).find((s) => s.getName() === 'handler');
    for (const d of resolved(handlerSymbol)?.declarations ?? []) reachDeclaration(d, handlerSymbol!, d, entry);

    while (queue.length) {
      const u = queue.shift()!;
      if (ts.isSourceFile(u)) walkLoad(u);
      else if (ts.isClassLike(u)) construct(u);
      else walkAll(u, u);
    }
    return {
      commands,
      bundle: bundle.map((sf) => relative(root, sf.fileName)),
      functionsReached: [...reached.keys()].filter((u) => !ts.isSourceFile(u)).length,
    };
  };

  return { reach, root };
};

/** `functions/<name>/handler.ts` under the repo root */
export const handlerFile = (root: string, name: string) => join(root, 'functions', name, 'handler.ts');
export const hasHandler = (root: string, name: string) => existsSync(handlerFile(root, name));
