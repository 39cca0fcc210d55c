// What the workerd project's global setup provides to the tests (vitest `inject`).
export {};

declare module 'vitest' {
  interface ProvidedContext {
    supabaseUrl: string;
    supabaseServiceRoleKey: string;
  }
}
