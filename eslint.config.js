import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SIZE_RULES = ['max-lines', 'max-lines-per-function'];

/**
 * A file or function may outgrow the size limits only with a reason a reader sees first: an
 * `eslint-disable max-lines -- why` (or `max-lines-per-function`) block comment above the first
 * statement of the file. Size directives anywhere else, or without a reason, are refused, so an
 * exception cannot hide next to the code it excuses. (A bare `eslint-disable` silences this rule
 * too; review catches those.)
 */
const sizeExceptionAtTop = {
  meta: {
    type: 'problem',
    schema: [],
    messages: {
      notAtTop: 'A size exception ({{rules}}) belongs in a block comment at the top of the file, before the first statement.',
      noReason: 'A size exception ({{rules}}) needs its reason after "--".',
    },
  },
  create(context) {
    return {
      Program(program) {
        const first = program.body[0];
        for (const comment of context.sourceCode.getAllComments()) {
          const directive = /^\s*eslint-disable(-next-line|-line)?(?:\s+([\s\S]*))?$/.exec(comment.value);
          if (!directive) continue;
          const [list, ...reason] = (directive[2] ?? '').split(/\s--\s/);
          const rules = (list ?? '').split(',').map((rule) => rule.trim()).filter(Boolean);
          const size = rules.filter((rule) => SIZE_RULES.includes(rule));
          if (size.length === 0) continue;
          const data = { rules: size.join(', ') };
          if (directive[1] || comment.type !== 'Block' || (first && comment.range[0] > first.range[0])) {
            context.report({ loc: comment.loc, messageId: 'notAtTop', data });
          }
          if (reason.join(' -- ').trim() === '') context.report({ loc: comment.loc, messageId: 'noReason', data });
        }
      },
    };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/node_modules/**', 'bench/results/**', 'src/dashboard/assets/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Read time from the injected Clock.' },
        { object: 'Math', property: 'random', message: 'Use the injected random source.' },
      ],
    },
  },
  {
    // Small files of one concept: every line counts, comments and blank lines included (as `wc -l`).
    files: ['src/**/*.ts'],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { punctual: { rules: { 'size-exception-at-top': sizeExceptionAtTop } } },
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: false, skipComments: false, IIFEs: true }],
      'punctual/size-exception-at-top': 'error',
    },
  },
  { files: ['scripts/**'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  {
    files: ['test/**', 'examples/**', 'bench/**', 'src/clock.ts', 'src/random.ts', 'src/testing/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
