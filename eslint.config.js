// Typed lint pass for promise safety and the layer rule (import cycles). Style and the rest is biome's job.
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'docs/**',
      'tooling/**',
      '**/*.config.ts',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../../*/src/*', '**/packages/*/src/**'],
              message: 'Import workspace packages by name.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/framing/src/**/*.ts', 'packages/*/src/codec/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['node:net', 'net', 'node:dgram', 'dgram'],
          patterns: [
            { group: ['@labwire/tcp', '@labwire/bus'], message: 'Codecs and framing never touch sockets.' },
          ],
        },
      ],
    },
  },
);
