using Codesign.Cli;

return CodesignCli.Run(args, Console.Out, Console.Error);
