// netdiag's lint: typescript-eslint's recommended type-checked rules, line length, and prettier's
// formatting checked separately (make lint). typescript-eslint reads the sources with the
// `typescript` package (5.x, its API); the build uses the native compiler (typescript-native).
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'lab/.cache/', 'bench/out/', '.cache/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { '@stylistic': stylistic },
    rules: {
      // A closure may refer to a variable assigned just below it (sniff's reporter and its status).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_` names a value left out on purpose; `{ a: _, ...rest }` drops a field.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Escaping code matches control characters on purpose.
      'no-control-regex': 'off',
      // Prettier wraps code at 120; strings, template literals and regular expressions are not cut.
      '@stylistic/max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
      ],
    },
  },
  {
    // Test doubles implement async interfaces with answers they already have.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  { files: ['**/*.js'], ...tseslint.configs.disableTypeChecked },
);
